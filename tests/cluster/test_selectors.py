from __future__ import annotations

import re

import pytest

from gitops_sim.cluster import errors, selectors

LABELS = {"app": "web", "tier": "front", "replicas": "3"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        pytest.param("", True, id="empty-selects-all"),
        pytest.param("app=web", True, id="equals"),
        pytest.param("app==web", True, id="double-equals"),
        pytest.param("app!=web", False, id="not-equals"),
        pytest.param("missing!=x", True, id="not-equals-matches-absent"),
        pytest.param("app in (api, web)", True, id="in"),
        pytest.param("app notin (web)", False, id="notin"),
        pytest.param("missing notin (x)", True, id="notin-matches-absent"),
        pytest.param("tier", True, id="exists"),
        pytest.param("!tier", False, id="does-not-exist"),
        pytest.param("replicas>2,replicas<4", True, id="gt-lt"),
        pytest.param("app=web,tier=back", False, id="all-must-hold"),
        pytest.param("app.kubernetes.io/name", False, id="prefixed-key"),
    ],
)
def test_label_selectors_match_as_apimachinery_does(selector: str, matches: bool) -> None:
    obj = {"metadata": {"labels": LABELS}}
    assert selectors.labels_match(selectors.parse_labels(selector), obj) is matches


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        pytest.param("app in web", "found 'web', expected: '('", id="in-without-parens"),
        pytest.param("app=web=x", "expected: ','", id="trailing-garbage"),
        pytest.param("-bad=x", "invalid label key", id="bad-key"),
        pytest.param("a>x", "must be an integer", id="gt-not-integer"),
    ],
)
def test_malformed_label_selectors_are_bad_requests(selector: str, message: str) -> None:
    with pytest.raises(errors.BadRequest, match=re.escape(message)):
        selectors.parse_labels(selector)


def test_structured_selectors_become_requirements() -> None:
    selector = selectors.from_label_selector(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}],
        }
    )
    assert selectors.labels_match(selector, {"metadata": {"labels": LABELS}})
    assert not selectors.labels_match(selector, {"metadata": {"labels": {"app": "web"}}})


def test_unsupported_field_labels_are_refused_with_the_server_message() -> None:
    with pytest.raises(errors.BadRequest, match="^field label not supported: data.key$"):
        selectors.parse_fields("data.key=x", selectors.getters_for("", "ConfigMap"))
