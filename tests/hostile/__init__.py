"""Attacks a hostile client would make, each reproduced against a real server (and the real Caddy
where it matters): what the attacker gets, and what the other clients see meanwhile."""
