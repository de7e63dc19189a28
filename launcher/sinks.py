"""Local delivery sinks for dev mode and tests: a real SMTP server and an HTTP SMS gateway.

    python -m launcher.sinks --smtp-port P --sms-port Q --dir DIR

Every received e-mail and SMS is appended as a JSON line to DIR/mail.jsonl and DIR/sms.jsonl.
The SMS gateway honours `Idempotency-Key`: a repeated key is acknowledged but not delivered again (it
is logged to sms-duplicate-requests.jsonl),
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

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {"message_id": str(message.get("Message-ID")), "to": envelope.rcpt_tos,
                  "subject": str(message.get("Subject")), "body": body.get_content() if body else ""}
        with self._lock, open(self._path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 OK"


def sms_gateway(path: Path) -> FastAPI:
    app = FastAPI(title="Local SMS gateway sink")
    state: dict[str, Any] = {"mode": "ok", "count": 0, "retry_after": 1, "seen": set()}
    lock = asyncio.Lock()

    @app.post("/control")
    async def control(request: Request) -> dict[str, Any]:
        body = await request.json()
        state.update(mode=body.get("mode", "ok"), count=int(body.get("count", 0)),
                     retry_after=int(body.get("retry_after", 1)))
        return {"mode": state["mode"], "count": state["count"]}

    @app.post("/messages")
    async def receive(request: Request) -> JSONResponse:
        async with lock:
            mode = state["mode"] if state["count"] > 0 else "ok"
            if state["count"] > 0:
                state["count"] -= 1
        if mode == "hang":
            await asyncio.sleep(3600)
        if mode == "429":
            return JSONResponse({"error": "slow down"}, status_code=429,
                                headers={"Retry-After": str(state["retry_after"])})
        if mode in ("500", "400"):
            return JSONResponse({"error": mode}, status_code=int(mode))
        body = await request.json()
        if not str(body.get("to", "")).startswith("+"):
            return JSONResponse({"error": "invalid number"}, status_code=400)
        key = request.headers.get("Idempotency-Key")
        async with lock:
            duplicate = key is not None and key in state["seen"]
            state["seen"].add(key)
        target = path.with_name("sms-duplicate-requests.jsonl") if duplicate else path
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"key": key, "to": body.get("to"), "text": body.get("text")},
                                 ensure_ascii=False) + "\n")
        return JSONResponse({"status": "accepted", "duplicate": duplicate}, status_code=202)

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
