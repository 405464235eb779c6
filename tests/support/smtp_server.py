#!/usr/bin/python3
"""A real SMTP server for fleetlog's e-mail notification test (Debian's python3-aiosmtpd).

Listens on 127.0.0.1:PORT, requires STARTTLS (certificate CERT, key KEY) and AUTH with
USER/PASSWORD, and writes each accepted message to OUTDIR/<n>.eml (envelope sender and
recipients in X-Envelope-* lines first). Runs until SIGTERM.
usage: smtp_server.py PORT CERT KEY USER PASSWORD OUTDIR
"""
import os
import signal
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, user, password, outdir = sys.argv[1:7]


class Saver:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        Saver.count += 1
        path = os.path.join(outdir, f"{Saver.count}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(f"X-Envelope-From: {envelope.mail_from}\r\n".encode())
            f.write(f"X-Envelope-To: {','.join(envelope.rcpt_tos)}\r\n".encode())
            f.write(f"X-TLS: {session.ssl is not None}\r\n".encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password:
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(Saver(), hostname="127.0.0.1", port=int(port), tls_context=context, require_starttls=True,
                        authenticator=authenticate, auth_required=True, auth_require_tls=True)
controller.start()
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
stop.wait()
controller.stop()
