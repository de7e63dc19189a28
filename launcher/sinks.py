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


def sms_gateway(path: Path) -> FastAPI:
    app = FastAPI(title="Local SMS gateway sink")
    state: dict[str, Any] = {"mode": "ok", "count": 0, "retry_after": 1, "seen": set()}
    lock = asyncio.Lock()

    @app.post("/control")
    async def control(request: Request) -> dict[str, Any]:
        body = await request.json()
        state.update(
            mode=body.get("mode", "ok"), count=int(body.get("count", 0)), retry_after=int(body.get("retry_after", 1))
        )
        return {"mode": state["mode"], "count": state["count"]}

    async def mode_of_this_request() -> str:
        async with lock:
            mode = state["mode"] if state["count"] > 0 else "ok"
            if state["count"] > 0:
                state["count"] -= 1
        if mode == "hang":
            await asyncio.sleep(3600)
        return mode

    def refusal(mode: str) -> JSONResponse | None:
        if mode == "429":
            return JSONResponse(
                {"error": "slow down"}, status_code=429, headers={"Retry-After": str(state["retry_after"])}
            )
        if mode in ("500", "400"):
            return JSONResponse({"error": mode}, status_code=int(mode))
        return None

    async def record(messages: list[tuple[str | None, Any]], text: Any) -> list[bool]:
        """Write the messages (a repeat of a known key to the duplicates file); True for each repeat."""
        async with lock:
            repeats = [key is not None and key in state["seen"] for key, _ in messages]
            state["seen"].update(key for key, _ in messages)
        for target, repeated in ((path, False), (path.with_name("sms-duplicate-requests.jsonl"), True)):
            lines = [
                json.dumps({"key": key, "to": to, "text": text}, ensure_ascii=False) + "\n"
                for repeat, (key, to) in zip(repeats, messages, strict=True)
                if repeat == repeated
            ]
            if lines:
                with open(target, "a", encoding="utf-8") as out:  # noqa: ASYNC230 - a dev sink, tiny appends
                    out.writelines(lines)
        return repeats

    @app.post("/messages")
    async def receive(request: Request) -> JSONResponse:
        refused = refusal(await mode_of_this_request())
        if refused:
            return refused
        body = await request.json()
        if not str(body.get("to", "")).startswith("+"):
            return JSONResponse({"error": "invalid number"}, status_code=400)
        [duplicate] = await record([(request.headers.get("Idempotency-Key"), body.get("to"))], body.get("text"))
        return JSONResponse({"status": "accepted", "duplicate": duplicate}, status_code=202)

    @app.post("/batches")
    async def receive_batch(request: Request) -> JSONResponse:
        """One text to many numbers; each message's `reference` is its idempotency key."""
        refused = refusal(await mode_of_this_request())
        if refused:
            return refused
        body = await request.json()
        valid = [m for m in body.get("messages", []) if str(m.get("to", "")).startswith("+")]
        await record([(m.get("reference"), m.get("to")) for m in valid], body.get("text"))
        return JSONResponse(
            {
                "results": [
                    {
                        "reference": m.get("reference"),
                        "status": "accepted" if m in valid else "rejected",
                        **({} if m in valid else {"error": "invalid number"}),
                    }
                    for m in body.get("messages", [])
                ]
            },
            status_code=202,
        )

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
