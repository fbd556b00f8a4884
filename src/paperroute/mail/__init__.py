"""Mail: sending messages through SMTP (the database outbox is ``site.outbox``)."""

from .transport import Mailer, MailError, SmtpMailer, SmtpSettings, parse_smtp_url

__all__ = ["MailError", "Mailer", "SmtpMailer", "SmtpSettings", "parse_smtp_url"]
