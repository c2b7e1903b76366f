"""Members, roles, login, joining, invitations, the directory and profiles."""
