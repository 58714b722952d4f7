"""Refused config writes in the layout panel: the same one-line error the CLI gives."""

from __future__ import annotations

import os
import stat

from layout_project import DRONE_TOML, WORKLOAD


def test_read_only_config_is_named_and_left_alone(panel, project, workload):
    config = project / "Drone.toml"
    os.chmod(config, 0o444)
    panel.set_trace(workload, project / WORKLOAD)
    panel.pools_spin.setValue(4)
    shown = []
    panel.confirm_write = lambda plan: shown.append(plan) or True
    panel.write_button.click()
    expected = f"{config}: the file is read-only; not written (make it writable first)"
    assert panel.errors == [expected]
    assert expected in panel.status_label.text()
    assert shown == []  # refused before a diff is offered
    assert config.read_text() == DRONE_TOML
    assert stat.S_IMODE(config.stat().st_mode) == 0o444
    assert not (project / "Drone.toml.bak").exists()


def test_hard_linked_config_is_refused(panel, project, workload):
    config = project / "Drone.toml"
    os.link(config, project / "other.toml")
    panel.set_trace(workload, project / WORKLOAD)
    panel.pools_spin.setValue(4)
    panel.confirm_write = lambda plan: True
    panel.write_button.click()
    assert len(panel.errors) == 1 and "2 hard links" in panel.errors[0]
    assert config.read_text() == (project / "other.toml").read_text() == DRONE_TOML
