"""HTTP plumbing shared by every feature. No business rules live here."""
