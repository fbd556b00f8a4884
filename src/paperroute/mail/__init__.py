"""Mail: building messages and sending them through SMTP or the local outbox."""

from .transport import Mailer, OutboxMailer, SmtpMailer, SmtpSettings, open_mailer, parse_smtp_url

__all__ = ["Mailer", "OutboxMailer", "SmtpMailer", "SmtpSettings", "open_mailer", "parse_smtp_url"]
