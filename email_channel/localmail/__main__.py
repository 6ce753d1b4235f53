"""`python -m email_channel.localmail`: the demo's local IMAP and SMTP servers (make run).

IMAP (pymap, in memory) holds the support mailbox `support@shop.test`; SMTP (aiosmtpd) accepts
Sellerdesk's replies, prints one line per mail and keeps each as var/mail/sent/<n>.eml."""

from __future__ import annotations

import argparse
import signal
import threading
from email import message_from_bytes
from pathlib import Path

from . import LocalIMAP, LocalSMTP


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--imap-port", type=int, default=1143)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--sent-dir", default="var/mail/sent")
    args = parser.parse_args()
    sent = Path(args.sent_dir)
    sent.mkdir(parents=True, exist_ok=True)

    def keep(raw: bytes) -> None:
        number = len(list(sent.glob("*.eml"))) + 1
        (sent / f"{number:05d}.eml").write_bytes(raw)
        mail = message_from_bytes(raw)
        print(f"SMTP: delivered to {mail['To']}: {mail['Subject']}", flush=True)

    imap = LocalIMAP(port=args.imap_port).start()
    smtp = LocalSMTP(port=args.smtp_port, deliver_to=keep).start()
    print(
        f"Local mail: IMAP 127.0.0.1:{imap.port} and SMTP 127.0.0.1:{smtp.port} "
        f"(user {imap.username}); replies kept in {sent}/",
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        smtp.stop()
        imap.stop()


if __name__ == "__main__":
    main()
