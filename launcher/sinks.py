"""Local delivery sinks for dev mode and tests: a real SMTP server and an HTTP SMS gateway.

    python -m launcher.sinks --smtp-port P --sms-port Q --dir DIR

Every received e-mail and SMS is appended as a JSON line to DIR/mail.jsonl and DIR/sms.jsonl.
The SMS gateway takes one message (`POST /messages`, keyed by `Idempotency-Key`) or one text to many
numbers (`POST /batches`, each message keyed by its `reference`): a repeated key is acknowledged but
not delivered again (it is logged to sms-duplicate-requests.jsonl),
and can be told to misbehave: `POST /control {"mode": "ok" | "429" | "500" | "400" | "hang",
"count": n, "retry_after": s}` makes the next n requests answer that way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class MailRecorder:
    """aiosmtpd handler appending each message to mail.jsonl."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "message_id": str(message.get("Message-ID")),
            "to": envelope.rcpt_tos,
            "subject": str(message.get("Subject")),
            "body": body.get_content() if body else "",
        }
        with self._lock, open(self._path, "a", encoding="utf-8") as out:  # noqa: ASYNC230 - a dev sink, tiny appends
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 OK"


class SmsSink:
    """The SMS gateway's behaviour: the misbehaviour asked for through /control, and the keys seen so far."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._duplicates_path = path.with_name("sms-duplicate-requests.jsonl")
        self._state: dict[str, Any] = {"mode": "ok", "count": 0, "retry_after": 1}
        self._seen: set[str | None] = set()
        self._lock = asyncio.Lock()

    def control(self, body: dict[str, Any]) -> dict[str, Any]:
        """The next `count` requests answer as `mode`."""
        self._state.update(
            mode=body.get("mode", "ok"), count=int(body.get("count", 0)), retry_after=int(body.get("retry_after", 1))
        )
        return {"mode": self._state["mode"], "count": self._state["count"]}

    async def refusal_of_this_request(self) -> JSONResponse | None:
        """The error this request gets (after a hang, if told to hang), or None to accept it."""
        mode = await self._mode_of_this_request()
        if mode == "429":
            return JSONResponse(
                {"error": "slow down"}, status_code=429, headers={"Retry-After": str(self._state["retry_after"])}
            )
        if mode in ("500", "400"):
            return JSONResponse({"error": mode}, status_code=int(mode))
        return None

    async def _mode_of_this_request(self) -> str:
        async with self._lock:
            mode = self._state["mode"] if self._state["count"] > 0 else "ok"
            if self._state["count"] > 0:
                self._state["count"] -= 1
        if mode == "hang":
            await asyncio.sleep(3600)
        return str(mode)

    async def record(self, messages: list[tuple[str | None, Any]], text: Any) -> list[bool]:
        """Write the messages (a repeat of a known key to the duplicates file); True for each repeat."""
        async with self._lock:
            repeats = [key is not None and key in self._seen for key, _ in messages]
            self._seen.update(key for key, _ in messages)
        for target, repeated in ((self._path, False), (self._duplicates_path, True)):
            lines = [
                json.dumps({"key": key, "to": to, "text": text}, ensure_ascii=False) + "\n"
                for repeat, (key, to) in zip(repeats, messages, strict=True)
                if repeat == repeated
            ]
            if lines:
                with open(target, "a", encoding="utf-8") as out:  # noqa: ASYNC230 - a dev sink, tiny appends
                    out.writelines(lines)
        return repeats

    async def accept_one(self, body: dict[str, Any], key: str | None) -> JSONResponse:
        if not str(body.get("to", "")).startswith("+"):
            return JSONResponse({"error": "invalid number"}, status_code=400)
        [duplicate] = await self.record([(key, body.get("to"))], body.get("text"))
        return JSONResponse({"status": "accepted", "duplicate": duplicate}, status_code=202)

    async def accept_batch(self, body: dict[str, Any]) -> JSONResponse:
        valid = [m for m in body.get("messages", []) if str(m.get("to", "")).startswith("+")]
        await self.record([(m.get("reference"), m.get("to")) for m in valid], body.get("text"))
        results = [
            {
                "reference": m.get("reference"),
                "status": "accepted" if m in valid else "rejected",
                **({} if m in valid else {"error": "invalid number"}),
            }
            for m in body.get("messages", [])
        ]
        return JSONResponse({"results": results}, status_code=202)


def sms_gateway(path: Path) -> FastAPI:
    app = FastAPI(title="Local SMS gateway sink")
    sink = SmsSink(path)

    @app.post("/control")
    async def control(request: Request) -> dict[str, Any]:
        return sink.control(await request.json())

    @app.post("/messages")
    async def receive(request: Request) -> JSONResponse:
        refused = await sink.refusal_of_this_request()
        if refused:
            return refused
        return await sink.accept_one(await request.json(), request.headers.get("Idempotency-Key"))

    @app.post("/batches")
    async def receive_batch(request: Request) -> JSONResponse:
        """One text to many numbers; each message's `reference` is its idempotency key."""
        refused = await sink.refusal_of_this_request()
        if refused:
            return refused
        return await sink.accept_batch(await request.json())

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--sms-port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    smtp = Controller(MailRecorder(args.dir / "mail.jsonl"), hostname="127.0.0.1", port=args.smtp_port)
    smtp.start()
    try:
        uvicorn.run(sms_gateway(args.dir / "sms.jsonl"), host="127.0.0.1", port=args.sms_port, log_level="warning")
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
