"""A small local mail server for tests: it speaks enough SMTP for Django's SMTP backend, keeps
what it accepted, refuses the addresses it is told to, and can drop the connection after a
number of messages (a server or a network that dies in the middle of a batch)."""

import email
import email.policy
import socketserver
import threading
from dataclasses import dataclass, field

import pytest


@dataclass
class Received:
    to: list[str]
    subject: str
    body: str


@dataclass
class SmtpServer:
    refused: set[str] = field(default_factory=set)  # RCPT TO answered 550
    drop_after: int | None = None  # accepted messages after which every connection is cut
    received: list[Received] = field(default_factory=list)
    connections: int = 0

    def start(self):
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                server.connections += 1
                self.reply("220 localhost ESMTP test")
                recipients = []
                while line := self.rfile.readline():
                    command = line.decode().strip()
                    verb = command[:4].upper()
                    if server.drop_after is not None and len(server.received) >= server.drop_after:
                        return  # the connection dies without a word
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        recipients = []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        address = command.split(":", 1)[1].strip().strip("<>")
                        if address in server.refused:
                            self.reply("550 5.1.1 Adresse inconnue")
                        else:
                            recipients.append(address)
                            self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 Go ahead")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk
                        message = email.message_from_bytes(data, policy=email.policy.default)
                        body = message.get_body(preferencelist=("plain",)).get_content()
                        server.received.append(
                            Received(recipients, str(message["Subject"]).strip(), body)
                        )
                        self.reply("250 OK")
                    elif verb == "RSET":
                        recipients = []
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("250 OK")

            def reply(self, text):
                self.wfile.write(f"{text}\r\n".encode())

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(name="smtp_server")
def smtp_server_fixture(settings):
    """A running local mail server that Django's SMTP backend sends to."""
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield server
    server.stop()
