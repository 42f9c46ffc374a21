"""Documentation of the ``netgen.netgen.render`` action; the code is in ``plugins/action/render.py``.

An action that runs only on the controller documents itself through a module file of the
same name (as ``ansible.builtin.debug`` does): ``ansible-doc`` and Galaxy read this file,
and Ansible never executes it.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: render
author: netgen maintainers
version_added: 0.1.0
short_description: Render network configuration from a netgen inventory into a directory
description:
  - Does what C(netgen render INVENTORY -o OUT) does, as a task. It checks the inventory, renders every
    artifact (Talos machine configs, Multus, MetalLB, vcluster) and brings the directory O(out) in line
    with them. Files whose bytes are unchanged are not touched; files netgen rendered before and no
    longer renders are removed; files netgen did not write are never touched.
  - Runs on the controller, whatever the task's host. The inventory, the facts, the templates and
    O(out) are paths on the controller. The C(netgen) Python package must be installed in the
    controller's Python.
  - Relative paths are relative to the playbook's directory.
  - "When the inventory has errors the task fails, nothing is written, and the message lists every
    diagnostic as C(file:line:column: severity[CODE]: message) followed by a hint."
  - netgen's warnings are shown as Ansible warnings.
options:
  inventory:
    description:
      - The inventory file.
      - Exactly one of O(inventory) and O(inventory_text) is required.
    type: path
  inventory_text:
    description:
      - The inventory as YAML text, for example from a template or a variable.
      - Exactly one of O(inventory) and O(inventory_text) is required.
    type: str
  name:
    description:
      - The file name the inventory is known by, shown in diagnostics and in the header of every rendered file.
      - Defaults to the O(inventory) path, or C(inventory.yaml) with O(inventory_text).
    type: str
  out:
    description: The output directory; created if missing.
    type: path
    required: true
  facts:
    description:
      - Facts files or directories (C(talosctl get links -o yaml), C(ip -j link), Ansible setup output)
        that netgen checks the inventory against.
    type: list
    elements: path
    default: []
  clusters:
    description:
      - Render only these clusters; files of the other clusters in O(out) are left as they are.
      - All clusters when omitted.
    type: list
    elements: str
  strict:
    description: Fail, writing nothing, when netgen reports warnings.
    type: bool
    default: false
  templates:
    description: A directory of template overrides.
    type: path
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Compares O(out) with what would be rendered and reports the files that would change; writes nothing.
  diff_mode:
    support: full
    details: Returns netgen's unified diff of every file that changes (or would change, in check mode).
  platform:
    support: full
    platforms: all
    details: Runs on the controller only.
notes:
  - A task that loops over many hosts renders once per host; run it once, for example with
    C(run_once) or in a play for C(localhost).
"""

EXAMPLES = r"""
- name: Render the network configuration
  netgen.netgen.render:
    inventory: inventory.yaml
    out: out

- name: Fail on warnings too, and render only the cluster lab with the machines' facts
  netgen.netgen.render:
    inventory: inventory.yaml
    out: out
    clusters: [lab]
    facts: [facts/]
    strict: true

- name: Render an inventory that is itself the output of a template
  netgen.netgen.render:
    inventory_text: "{{ lookup('ansible.builtin.template', 'inventory.yaml.j2') }}"
    out: out
"""

RETURN = r"""
created:
  description: Files created in O(out) (or that would be, in check mode), relative to O(out).
  returned: success
  type: list
  elements: str
  sample: [lab/talos/nodes/cp-1.yaml, netgen-manifest.json]
updated:
  description: Files whose content changed (or would change).
  returned: success
  type: list
  elements: str
removed:
  description: Files netgen rendered before and no longer renders, removed (or that would be).
  returned: success
  type: list
  elements: str
unchanged:
  description: Files left as they were.
  returned: success
  type: list
  elements: str
warnings:
  description: "netgen's warnings, each as C(file:line:column: warning[CODE]: message) and a hint."
  returned: when netgen warns
  type: list
  elements: str
diagnostics:
  description: Every diagnostic when the task fails on the inventory, as netgen's JSON format has them.
  returned: failure
  type: list
  elements: dict
  sample:
    - code: NG104
      severity: error
      message: "MAC 52:54:00:7a:66:a0 is used by hosts cp-1 and cp-2"
      hint: "every NIC needs its own MAC; check for a copy-pasted host entry"
      file: /srv/site/inventory.yaml
      line: 44
      column: 18
      path: "$.clusters[0].hosts[1].nics[0].mac"
"""
