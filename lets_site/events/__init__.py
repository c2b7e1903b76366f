"""The events board: activities, registration with places and a waiting list."""
