"""A real SMTP server on 127.0.0.1 for the reminder tests (`make unit` starts it).

aiosmtpd (from PyPI, installed by .ci/install-tools in its own venv) speaks SMTP; this handler
parses each accepted message with Python's email package and writes it as one JSON file
(envelope, recipient, decoded subject and body, the X-Traguardi-Chiave header) into the folder
given, where the tests read it. A recipient at @rifiuta.invalid is refused with a temporary
error (451), so the tests can check that a refused message stays queued and is reported.

Usage: python smtp-sink.py PORT FOLDER
"""

import asyncio
import email
import email.policy
import json
import os
import signal
import sys
import time

from aiosmtpd.controller import Controller

REFUSED_DOMAIN = "@rifiuta.invalid"


class Sink:
    def __init__(self, folder):
        self.folder = folder

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith(REFUSED_DOMAIN):
            return "451 4.3.0 Casella non disponibile (server di prova): riprovare piu' tardi"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "to": str(message.get("To", "")),
            "from": str(message.get("From", "")),
            "subject": str(message.get("Subject", "")),
            "key": str(message.get("X-Traguardi-Chiave", "")),
            "content_type": message.get_content_type(),
            "charset": message.get_content_charset(),
            "body": body.get_content() if body is not None else "",
        }
        name = "%d-%d.json" % (time.time_ns(), os.getpid())
        partial = os.path.join(self.folder, "." + name)
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(partial, os.path.join(self.folder, name))
        return "250 Messaggio accettato"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    os.makedirs(folder, exist_ok=True)
    controller = Controller(Sink(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print("smtp-sink listening on 127.0.0.1:%d, messages in %s" % (port, folder), flush=True)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(stop.wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
