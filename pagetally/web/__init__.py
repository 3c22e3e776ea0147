"""The web interface (issue 13): server-rendered HTML pages for users and admins.

`app.create_app` builds the FastAPI application; `identity` says who is asking
(session cookie, a trusted proxy's user header, or an extension such as the API's
bearer tokens); `rights` is the pure rule of who may see and change what. Pages
talk to the store only through its role interfaces (storage/base.py). See
docs/web.md.
"""
