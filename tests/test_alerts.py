"""The Prometheus alert rules (``deploy/alerts.yml``): valid for promtool, one for each gauge that
says something is degraded, naming only metrics the service exports, and firing when they say so
(``promtool test rules``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from autoconfig.service import Service
from autoconfig.settings import Settings
from autoconfig.web import create_app
from tests.caddy import ROOT
from tests.conftest import ACADEMIE, DEMO, PROFILES
from tests.pki import make_pki
from tests.tools import require

ALERTS = ROOT / "deploy" / "alerts.yml"
GAUGES = {
    "autoconfig_directory_up",
    "autoconfig_signing_certificate_expiry_timestamp_seconds",
    "autoconfig_profiles_loaded",
    "autoconfig_last_reload_success_timestamp_seconds",
    "autoconfig_reload_failed",
    "autoconfig_build_info",
    "autoconfig_autodiscover_errors_total",
}
"""The names issue 15 gives: each needs a rule."""
METRIC = re.compile(r"\b(autoconfig_[a-z_]+)\b")


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def exported(tmp_path: Path) -> set[str]:
    """Every sample name a served app exports, with a signing certificate and one Autodiscover
    error answered, so that no metric is missing for want of data."""
    cert, key, _ = make_pki(tmp_path).signer("signer.example")
    settings = Settings(PROFILES, str(DEMO), signing_cert=cert, signing_key=key)
    with TestClient(
        create_app(Service.load(settings)), base_url=f"http://autodiscover.{ACADEMIE}"
    ) as client:
        client.post("/autodiscover/autodiscover.xml", content=b"<not xml")
        text = client.get("/metrics").text
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


def test_every_rule_is_complete() -> None:
    found = rules()
    assert found
    for rule in found:
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule
        assert rule["annotations"]["summary"], rule


def test_each_gauge_has_a_rule_and_each_rule_names_exported_metrics(tmp_path: Path) -> None:
    names = exported(tmp_path)
    assert names >= GAUGES, GAUGES - names
    used = {name for rule in rules() for name in METRIC.findall(rule["expr"])}
    assert used >= GAUGES, f"no rule for {GAUGES - used}"
    assert used <= names, f"rules name metrics the service does not export: {used - names}"


def test_promtool_accepts_the_rules() -> None:
    done = subprocess.run(
        [require("promtool"), "check", "rules", str(ALERTS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# Series (promtool's notation: a value per minute), and the alerts that must fire at 10 minutes:
# instance a is degraded in every way, instance b is not.
SERIES = {
    'autoconfig_directory_up{instance="a"}': "1 0x15",
    'autoconfig_directory_up{instance="b"}': "1x15",
    'autoconfig_reload_failed{instance="a"}': "0 1x15",
    'autoconfig_reload_failed{instance="b"}': "0x15",
    'autoconfig_profiles_loaded{instance="a"}': "0x15",
    'autoconfig_profiles_loaded{instance="b"}': "2x15",
    'autoconfig_signing_certificate_expiry_timestamp_seconds{instance="a"}': "86400x15",
    'autoconfig_signing_certificate_expiry_timestamp_seconds{instance="b"}': "1e12x15",
}
FIRING = (
    "AutoconfigDirectoryDown",
    "AutoconfigReloadFailed",
    "AutoconfigSigningCertificateExpiresSoon",
    "AutoconfigNoProfiles",
)
TEMPLATE = re.compile(r"{{ \$labels\.(\w+) }}")


def expected(alert: str, labels: dict[str, str]) -> dict[str, Any]:
    """The alert as promtool gives it: its labels and its annotations filled in."""
    (rule,) = (rule for rule in rules() if rule["alert"] == alert)
    annotations = {
        name: TEMPLATE.sub(lambda m: labels.get(m.group(1), ""), text)
        for name, text in rule["annotations"].items()
    }
    return {"exp_labels": {**labels, **rule["labels"]}, "exp_annotations": annotations}


def test_the_rules_fire_when_the_gauges_say_degraded(tmp_path: Path) -> None:
    unit_tests = {
        "rule_files": [str(ALERTS)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": k, "values": v} for k, v in SERIES.items()],
                "alert_rule_test": [
                    {
                        "eval_time": "10m",
                        "alertname": alert,
                        "exp_alerts": [expected(alert, {"instance": "a"})],
                    }
                    for alert in FIRING
                ],
            }
        ],
    }
    tests = tmp_path / "alerts-test.yml"
    tests.write_text(yaml.safe_dump(unit_tests), encoding="utf-8")
    done = subprocess.run(
        [require("promtool"), "test", "rules", str(tests)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
