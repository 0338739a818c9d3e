"""Sending email through an SMTP server (the notice digest and its address confirmation)."""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from lrs_server.domain.notice_ports import MailNotSent


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """``starttls``: upgrade the connection before sending (and log in, when $LRS_SMTP_USER and
    $LRS_SMTP_PASSWORD are set: never on the command line, where other users could read them)."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    timeout: float = 30.0

    @staticmethod
    def parse(address: str, sender: str, starttls: bool) -> SmtpSettings:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"give the mail server as HOST:PORT, not {address!r}")
        if "@" not in sender:
            raise ValueError(f"the sender must be an email address, not {sender!r}")
        return SmtpSettings(host, int(port), sender, starttls)


class SmtpMailer:
    """Implements ``domain.notice_ports.Mailer``: one connection per message (messages are rare)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def send(self, to: str, subject: str, body: str) -> None:
        s = self._settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.sender, to, subject
        message.set_content(body)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    user, password = os.environ.get("LRS_SMTP_USER"), os.environ.get("LRS_SMTP_PASSWORD")
                    if user and password:
                        smtp.login(user, password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as failed:
            raise MailNotSent(str(failed)) from failed
