"""The real Thunderbird (Debian's ``thunderbird`` ESR) setting up accounts, headless.

Thunderbird runs with a fresh profile that trusts Caddy's internal CA, with every host name it
looks up answered by 127.0.0.1 (``network.dns.forceResolve``) and, in a mount namespace of its own,
a ``/etc/resolv.conf`` naming a loopback address where nothing listens (:data:`tests.tools.NO_RESOLVER`), so
that its own DNS queries (MX, SRV) never leave loopback either. It is driven over Marionette, in
its chrome context: each setup runs the modules its Account Hub runs when someone types an address (``FindConfig.parallelAutoDiscovery``: its own disk,
autoconfig, the ISPDB, MX and Exchange Autodiscover, all at once), fills in the variables as the
hub does and creates the account in Thunderbird's backend. What a setup returns is what the new
account holds: the incoming and outgoing servers and the user names Thunderbird will log in with.

Needs root (the mount namespace, and Caddy on ports 80 and 443, the ports Thunderbird asks);
CI runs as root.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.tools import (
    HarnessError,
    free_port,
    private_mounts,
    require,
    stop,
    wait_until,
)

SCRIPT_TIMEOUT_S = 90
"""How long one setup may take in Thunderbird (its own time-outs: 5 s per autoconfig URL, 10 s
for the ISPDB; Autodiscover's retries)."""

PREFS = {
    # Every name Thunderbird resolves through its network stack is 127.0.0.1; no DNS over HTTPS.
    "network.dns.forceResolve": "127.0.0.1",
    "network.trr.mode": 5,
    "network.dns.disableIPv6": True,
    # Nothing of its own in the background: no updates, telemetry, start page or default-client
    # question, no captive-portal or connectivity probes, no remote settings.
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "toolkit.telemetry.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "mail.shell.checkDefaultClient": False,
    "mailnews.start_page.enabled": False,
    "mail.provider.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "extensions.update.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "security.OCSP.enabled": 0,
}

SET_UP = """
const [address, realName] = arguments;
const done = arguments[arguments.length - 1];
(async () => {
  const load = name => ChromeUtils.importESModule(`resource:///modules/${name}.sys.mjs`);
  const { FindConfig } = load("accountcreation/FindConfig");
  const { AccountConfig } = load("accountcreation/AccountConfig");
  const { CreateInBackend } = load("accountcreation/CreateInBackend");
  const { MailServices } = load("MailServices");
  const domain = address.split("@")[1];
  // As the Account Hub does once an address is typed: no password yet.
  const discovery = FindConfig.parallelAutoDiscovery(
    domain, address, AbortSignal.timeout(60000), undefined, undefined);
  let step = await discovery.next();
  while (!step.done && step.value && step.value.isRedirect) {
    step = await discovery.next({ acceptRedirect: false });
  }
  const config = step.value;
  if (!config) {
    return { found: false };
  }
  FindConfig.ewsifyConfig(config);
  AccountConfig.replaceVariables(config, realName, address, "");
  const account = await CreateInBackend.createAccountInBackend(config);
  const incoming = account.incomingServer;
  const outgoing = MailServices.outgoingServer
    .getServerByIdentity(account.defaultIdentity)
    .QueryInterface(Ci.nsISmtpServer);
  return {
    found: true,
    source: config.subSource,
    incoming: {
      type: incoming.type, host: incoming.hostname, port: incoming.port,
      socketType: incoming.socketType, username: incoming.username,
    },
    outgoing: {
      host: outgoing.hostname, port: outgoing.port,
      socketType: outgoing.socketType, username: outgoing.username,
    },
  };
})().then(done, error => done({ error: `${error}\\n${error.stack}` }));
"""


@dataclass(frozen=True)
class Server:
    type: str
    host: str
    port: int
    socket_type: int
    """Thunderbird's ``nsMsgSocketType``: 3 is TLS from the first byte, 2 STARTTLS."""
    username: str


@dataclass(frozen=True)
class Setup:
    """The account Thunderbird created for one address."""

    source: str
    """Where Thunderbird took its settings from (``isp-https``: the autoconfig URL over https)."""
    incoming: Server
    outgoing: Server


class Marionette:
    """A minimal client of Marionette's protocol (``length:json`` frames over TCP)."""

    def __init__(self, port: int) -> None:
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=SCRIPT_TIMEOUT_S + 30)
        self._buffer = b""
        self._last_id = 0
        self._read()  # the greeting: {"applicationType": "gecko", "marionetteProtocol": 3}

    def _read(self) -> Any:
        while b":" not in self._buffer:
            self._receive()
        size, _, self._buffer = self._buffer.partition(b":")
        length = int(size)
        while len(self._buffer) < length:
            self._receive()
        frame, self._buffer = self._buffer[:length], self._buffer[length:]
        return json.loads(frame)

    def _receive(self) -> None:
        chunk = self._socket.recv(65536)
        if not chunk:
            raise HarnessError("Thunderbird closed its Marionette connection")
        self._buffer += chunk

    def call(self, command: str, params: Mapping[str, object]) -> Any:
        self._last_id += 1
        frame = json.dumps([0, self._last_id, command, params]).encode()
        self._socket.sendall(str(len(frame)).encode() + b":" + frame)
        _, message_id, error, result = self._read()
        if message_id != self._last_id:
            raise HarnessError(f"Marionette answered message {message_id}, not {self._last_id}")
        if error:
            raise HarnessError(f"Marionette {command}: {error.get('message', error)}")
        return result

    def close(self) -> None:
        self._socket.close()


class Thunderbird:
    def __init__(self, marionette: Marionette, log: Path) -> None:
        self._marionette = marionette
        self.log = log

    def set_up(self, address: str, real_name: str = "Test Person") -> Setup:
        """Set up an account for ``address`` as the Account Hub would (without the password)."""
        result = self._marionette.call(
            "WebDriver:ExecuteAsyncScript", {"script": SET_UP, "args": [address, real_name]}
        )["value"]
        if "error" in result:
            raise HarnessError(f"Thunderbird could not set up an account: {result['error']}")
        if not result["found"]:
            raise HarnessError("Thunderbird found no configuration")
        return Setup(result["source"], _server(result["incoming"]), _server(result["outgoing"]))


def _server(fields: Mapping[str, Any]) -> Server:
    return Server(
        fields.get("type", "smtp"),
        fields["host"],
        fields["port"],
        fields["socketType"],
        fields["username"],
    )


def _profile(folder: Path, marionette_port: int, root_certificate: Path) -> None:
    """A new profile whose certificate store trusts ``root_certificate`` (Caddy's CA)."""
    folder.mkdir(parents=True)
    prefs = {**PREFS, "marionette.port": marionette_port}
    (folder / "user.js").write_text(
        "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items()),
        encoding="utf-8",
    )
    certutil = require("certutil")
    database = f"sql:{folder}"
    subprocess.run([certutil, "-N", "--empty-password", "-d", database], check=True)
    trust = ["-A", "-n", "test CA", "-t", "C,,", "-i", str(root_certificate)]
    subprocess.run([certutil, *trust, "-d", database], check=True)


@contextmanager
def run_thunderbird(tmp: Path, root_certificate: Path) -> Iterator[Thunderbird]:
    """Headless Thunderbird with a new profile trusting ``root_certificate``, ready to set up."""
    thunderbird = require("thunderbird")
    port = free_port()
    profile = tmp / "thunderbird-profile"
    _profile(profile, port, root_certificate)
    log = tmp / "thunderbird.log"
    command = private_mounts(
        tmp,
        {},
        [
            *(thunderbird, "--headless", "--marionette", "-remote-allow-system-access"),
            *("--no-remote", "--profile", str(profile)),
        ],
        "Thunderbird",
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "MOZ_HEADLESS": "1",
        "LANG": "C.UTF-8",
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    marionette: Marionette | None = None
    try:

        def listening() -> bool:
            if process.poll() is not None:
                raise HarnessError(
                    f"thunderbird exited with {process.returncode}:\n"
                    + log.read_text(errors="replace")[-4000:]
                )
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_until(listening, "thunderbird's Marionette port", timeout=60)
        marionette = Marionette(port)
        marionette.call("WebDriver:NewSession", {"capabilities": {}})
        marionette.call("Marionette:SetContext", {"value": "chrome"})
        marionette.call("WebDriver:SetTimeouts", {"script": SCRIPT_TIMEOUT_S * 1000})
        yield Thunderbird(marionette, log)
    finally:
        if marionette is not None:
            marionette.close()
        stop(process)
