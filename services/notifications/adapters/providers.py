"""Provider adapters: e-mail over SMTP, SMS through an HTTP gateway. Each call ends in one outcome."""

from __future__ import annotations

from contextlib import AbstractContextManager
from email.message import EmailMessage

import aiosmtplib
import httpx

from services.notifications.adapters.provider_spans import ProviderCall, provider_span
from services.notifications.domain.outcomes import Outcome


def message_id(delivery_id: str) -> str:
    """A valid RFC 5322 Message-ID naming the delivery (receivers and sinks can spot a repeat)."""
    return "<" + delivery_id.replace("|", ".").replace(":", ".") + "@careplan>"


class SmtpEmail:
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        timeout: float = 10.0,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
    ) -> None:
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout
        self._username, self._password, self._use_tls = username, password, use_tls

    async def send(self, *, delivery_id: str, address: str, subject: str, body: str) -> Outcome:
        with provider_span("smtp send", protocol="smtp", host=self._host, port=self._port) as call:
            outcome = await self._send(delivery_id, address, subject, body)
            call.outcomes.append(outcome)
        return outcome

    async def _send(self, delivery_id: str, address: str, subject: str, body: str) -> Outcome:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self._sender, address, subject
        message["Message-ID"] = message_id(delivery_id)
        message.set_content(body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                timeout=self._timeout,
                username=self._username,
                password=self._password,
                use_tls=self._use_tls,
            )
        except aiosmtplib.SMTPRecipientsRefused:
            return Outcome("failed", "recipient refused")
        except aiosmtplib.SMTPResponseException as exc:
            return Outcome("failed" if 500 <= exc.code < 600 else "retry", f"smtp {exc.code}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return Outcome("retry", f"smtp unavailable: {type(exc).__name__}")
        return Outcome("sent")


class HttpSmsGateway:
    name = "sms-gateway"

    def __init__(
        self, url: str, *, username: str | None = None, password: str | None = None, timeout: float = 5.0
    ) -> None:
        auth = httpx.BasicAuth(username, password) if username and password else None
        self._client = httpx.AsyncClient(base_url=url, auth=auth, timeout=timeout)
        self._url = httpx.URL(url)

    def _span(self, route: str) -> AbstractContextManager[ProviderCall]:
        return provider_span(
            f"POST {route}", protocol="http", host=self._url.host, port=self._url.port, method="POST", route=route
        )

    async def send(self, *, delivery_id: str, address: str, subject: str, body: str) -> Outcome:
        with self._span("/messages") as call:
            try:
                response = await self._client.post(
                    "/messages",
                    json={"to": address, "text": body, "reference": delivery_id},
                    headers={"Idempotency-Key": delivery_id},
                )
            except httpx.TimeoutException:
                outcome = Outcome("retry", "sms gateway timed out")
            except httpx.HTTPError as exc:
                outcome = Outcome("retry", f"sms gateway unavailable: {type(exc).__name__}")
            else:
                call.status_code = response.status_code
                outcome = self._outcome(response)
            call.outcomes.append(outcome)
        return outcome

    async def send_batch(self, messages: list[tuple[str, str]], *, subject: str, body: str) -> list[Outcome]:
        """One text to many numbers in one request (`POST /batches`, as SMS gateways offer for bulk
        sends); `messages` are (delivery id, number); an outcome per message, in order."""
        with self._span("/batches") as call:
            outcomes = await self._send_batch(messages, body, call)
            call.outcomes.extend(outcomes)
        return outcomes

    async def _send_batch(self, messages: list[tuple[str, str]], body: str, call: ProviderCall) -> list[Outcome]:
        try:
            response = await self._client.post(
                "/batches", json={"text": body, "messages": [{"to": to, "reference": ref} for ref, to in messages]}
            )
        except httpx.TimeoutException:
            return [Outcome("retry", "sms gateway timed out")] * len(messages)
        except httpx.HTTPError as exc:
            return [Outcome("retry", f"sms gateway unavailable: {type(exc).__name__}")] * len(messages)
        call.status_code = response.status_code
        if response.status_code >= 300:
            return [self._outcome(response)] * len(messages)
        results = {r.get("reference"): r for r in response.json().get("results", [])}
        return [
            Outcome("sent")
            if results.get(ref, {}).get("status") == "accepted"
            else Outcome("failed", f"sms gateway refused the number ({results.get(ref, {}).get('error', 'no result')})")
            for ref, _ in messages
        ]

    @staticmethod
    def _outcome(response: httpx.Response) -> Outcome:
        if response.status_code < 300:
            return Outcome("sent")
        if response.status_code == 429:
            return Outcome("retry", "sms gateway rate limit (429)", _retry_after(response))
        if response.status_code >= 500:
            return Outcome("retry", f"sms gateway {response.status_code}")
        return Outcome("failed", f"sms gateway refused ({response.status_code})")

    async def close(self) -> None:
        await self._client.aclose()


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
