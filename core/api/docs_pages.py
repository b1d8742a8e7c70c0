"""The browsable API docs (ReDoc, Swagger UI) with their scripts served from /static/apidocs/, not a CDN.

spectree's own pages load unpkg.com's copies: the docs then fail offline or behind a strict proxy, and every
reader's browser tells a third party it looked. These pages are spectree's, pointed at the vendored files
(static/apidocs/README.md names their versions and licences). spectree fills the ``{spec_url}`` fields.
"""

from __future__ import annotations

from spectree.page import ONLINE_PAGE_TEMPLATES

ASSETS = "/static/apidocs"

REDOC = f"""<!DOCTYPE html>
<html>
  <head>
    <title>Handoff API · ReDoc</title>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>body {{{{ margin: 0; padding: 0; }}}}</style>
  </head>
  <body>
    <redoc spec-url="{{spec_url}}"></redoc>
    <script src="{ASSETS}/redoc.standalone.js"></script>
  </body>
</html>"""

# validatorUrl null: Swagger UI would otherwise send the description to validator.swagger.io for a badge.
SWAGGER = f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Handoff API · Swagger UI</title>
    <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="{ASSETS}/swagger-ui-bundle.js"></script>
    <script src="{ASSETS}/swagger-ui-standalone-preset.js"></script>
    <script>
      window.onload = function () {{{{
        window.ui = SwaggerUIBundle({{{{
          url: "{{spec_url}}",
          dom_id: "#swagger-ui",
          presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
          layout: "StandaloneLayout",
          validatorUrl: null,
        }}}});
      }}}};
    </script>
  </body>
</html>"""

# No scalar page: its bundle is not vendored, and two viewers are enough.
PAGE_TEMPLATES = {
    "redoc": REDOC,
    "swagger": SWAGGER,
    "swagger/oauth2-redirect.html": ONLINE_PAGE_TEMPLATES["swagger/oauth2-redirect.html"],
}
