"""The floor for bench/clicks.py: a Flask app whose ``/c/<code>`` only answers the redirect.

Same framework, same server, same kind of 302 as Handoff's click path (a landing URL carrying a
34-character ``atk=`` token, built as a ``flask.Response``), and nothing else: no link lookup, no user
agent classification, no hashing, no Redis. Handoff's throughput is compared with this one's.

    gunicorn --chdir bench bare_app:app
"""

from __future__ import annotations

from flask import Flask, Response

# A token of the length Handoff issues, in a landing URL shaped like the demo offer's.
TOKEN = "AQAAAAAAAAAAAAAAAGdemoBenchToken01"
LOCATION = f"http://127.0.0.1:8000/demo/landing?utm_source=partners&atk={TOKEN}#pricing"

app = Flask(__name__)


@app.route("/c/<code>", methods=["GET"])
def follow_link(code: str):
    return Response(status=302, headers={"Location": LOCATION, "Cache-Control": "no-store"})
