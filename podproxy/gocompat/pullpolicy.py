"""The pull policy names podman's API accepts, as podman's --pull values.

Two Go tables, for two routes: the pull route parses its ``policy`` with
containers/common's ``config.ParsePullPolicy`` (several spellings; anything
else is an error), the build route looks ``pullpolicy`` up in buildah's
``define.PolicyMap`` (anything else is buildah's zero value, PullIfMissing).
"""
from __future__ import annotations

# containers/common config.ParsePullPolicy
PULL_POLICIES = {"always": "always", "Always": "always", "missing": "missing", "Missing": "missing",
                 "ifnotpresent": "missing", "IfNotPresent": "missing", "newer": "newer", "Newer": "newer",
                 "ifnewer": "newer", "IfNewer": "newer", "never": "never", "Never": "never"}
# buildah define.PolicyMap
BUILD_PULL_POLICIES = {"missing": "missing", "always": "always", "never": "never", "ifnewer": "newer"}


def pull_policy(value: str) -> str | None:
    """``ParsePullPolicy``: the --pull value, or None where podman answers an error."""
    return PULL_POLICIES.get(value)


def build_pull_policy(value: str) -> str:
    """The build route's --pull value: ``PolicyMap[value]``, missing when it is not there."""
    return BUILD_PULL_POLICIES.get(value, "missing")
