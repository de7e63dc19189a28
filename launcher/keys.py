"""The dev-mode token signing key pair, kept in the state directory."""

from __future__ import annotations

from pathlib import Path

from shared.security.tokens import generate_signing_key


def ensure_keys(state_dir: Path) -> tuple[Path, Path]:
    """(private key path, public key path); created on first use."""
    keys = state_dir / "keys"
    private, public = keys / "signing-key.pem", keys / "signing-key.pub.pem"
    if not private.exists() or not public.exists():
        keys.mkdir(parents=True, exist_ok=True)
        private_pem, public_pem = generate_signing_key()
        private.write_bytes(private_pem)
        private.chmod(0o600)
        public.write_bytes(public_pem)
    return private, public
