"""Notifications: the mails members can switch off, their preferences and the group's
defaults, the reminders found by the daily command, and the addresses that bounce."""
