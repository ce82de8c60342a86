"""The governance fixtures (departments with staff, buildings apart on the map) for the workbench's tests."""

from tests.governance.conftest import gov  # noqa: F401 - a fixture
