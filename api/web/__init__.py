"""The web app: server-rendered pages (Jinja2 + htmx) on the same domain functions as the JSON API."""
