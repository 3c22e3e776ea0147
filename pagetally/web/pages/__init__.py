"""The HTML pages: login, the user's own pages, the admin pages."""
