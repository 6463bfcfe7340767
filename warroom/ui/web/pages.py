"""The HTML `warroom serve` sends: the login form, the war room's terminal page, refusals.

Everything put into a page goes through `html.escape`; no page loads anything from another
site (the font is textual-serve's own copy), and scripts run only with the response's nonce.
"""

from __future__ import annotations

from html import escape

_STYLE = """
body { margin: 0; background: #0c181f; color: #e8eef2; font: 16px/1.5 system-ui, sans-serif; }
main { max-width: 34rem; margin: 12vh auto; padding: 2rem; background: #12232d; border-radius: 6px; }
h1 { font-size: 1.4rem; margin-top: 0; }
label { display: block; margin: 1rem 0 .3rem; }
input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; }
button { margin-top: 1rem; padding: .5rem 1.5rem; font: inherit; cursor: pointer; }
:focus-visible { outline: 3px solid #ffd24a; outline-offset: 2px; }
.problem { border-left: 4px solid #ffb4a8; padding-left: .8rem; }
"""


def _page(title: str, body: str, status_note: str = "") -> str:
    note = f'<p class="problem" role="alert"><strong>{escape(status_note)}</strong></p>' if status_note else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{note}{body}</main></body></html>"
    )


def login_page(title: str, problem: str = "") -> str:
    """The login form: the token goes in a POST body, never in a URL."""
    body = (
        "<p>Sign in with the token you were given for this war room. Entries you type are signed "
        "with your name.</p>"
        '<form method="post" action="/login">'
        '<label for="token">Your token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>'
        '<button type="submit">Open the war room</button></form>'
    )
    return _page(f"{title}: sign in", body, problem)


def refusal_page(title: str, heading: str, explanation: str) -> str:
    """A plain page that says why the war room did not open and what to do."""
    return _page(f"{title}: {heading}", f"<p>{escape(explanation)}</p>"
                 '<form method="get" action="/"><button type="submit">Try again</button></form>')


def war_room_page(title: str, person: str, read_only: bool, websocket_url: str, nonce: str,
                  font_size: int = 16) -> str:
    """textual-serve's terminal page, with our own header-less layout and a sign-out button."""
    who = f"{person} (read-only)" if read_only else person
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(title)}: {escape(who)}</title>
<link rel="stylesheet" href="/static/css/xterm.css">
<script src="/static/js/textual.js"></script>
<style>
@font-face {{ font-family: "Roboto Mono"; src: url("/static/fonts/RobotoMono-VariableFont_wght.ttf"); }}
body {{ background: #0c181f; margin: 0; }}
.dialog-container {{ position: absolute; width: 100vw; height: 100vh; display: flex;
  align-items: center; justify-content: center; z-index: 10; }}
.intro {{ width: 640px; padding: 32px; font: 16px "Roboto Mono", monospace; text-align: center;
  color: rgba(255,255,255,.95); background: #12232d; }}
body.-first-byte .intro-dialog {{ display: none; }}
body .textual-terminal {{ opacity: 0; }}
body.-first-byte .textual-terminal {{ opacity: 1; transition: opacity .3s ease-out; }}
.closed-dialog {{ display: none; }}
body.-closed .closed-dialog {{ display: flex; }}
#start {{ display: none; }}
button {{ padding: 12px 28px; margin: 12px; font: inherit; cursor: pointer; }}
:focus-visible {{ outline: 3px solid #ffd24a; }}
</style>
<script nonce="{escape(nonce)}">
document.addEventListener("DOMContentLoaded", () => {{
  document.getElementById("restart").addEventListener("click", () => {{ window.location.href = "/"; }});
}});
</script>
</head>
<body>
<div class="dialog-container intro-dialog"><div class="intro">Opening the war room for {escape(who)}…
<button type="button" id="start">Start</button></div></div>
<div class="dialog-container closed-dialog"><div class="intro" role="alert">
<p>The war room session ended.</p>
<button type="button" id="restart">Open it again</button>
<form method="post" action="/logout" style="display:inline"><button type="submit">Sign out</button></form>
</div></div>
<div id="terminal" class="textual-terminal" data-session-websocket-url="{escape(websocket_url)}"
 data-font-size="{int(font_size)}"></div>
</body></html>
"""
