"""Cross-checks of the model: one rule, one function, one code (see :mod:`.framework`).

:data:`RULES` is the list of every rule that runs, in the order of the areas below; a new
rule is written in its area's module and added here.
"""

from __future__ import annotations

from collections.abc import Sequence

from netgen.checks import addresses, attachments, families, hosts, links, metallb, node_ip, vclusters, vips
from netgen.checks.framework import Rule
from netgen.diagnostics import Diagnostic
from netgen.model import Cluster
from netgen.parallel import per_cluster

RULES: tuple[Rule, ...] = (
    hosts.unique_names,  # NG101
    hosts.known_networks,  # NG102
    hosts.unicast_macs,  # NG103
    hosts.unique_macs,  # NG104
    hosts.one_link_per_network,  # NG105
    hosts.stable_link_names,  # NG106
    hosts.unique_link_names,  # NG107
    hosts.aliases_distinct,  # NG108
    links.members_taken_once,  # NG111
    links.references_known,  # NG112
    links.bond_members_enough,  # NG113
    links.bond_options_fit_mode,  # NG114
    links.vlan_ids,  # NG115
    links.link_names,  # NG116
    links.vlan_mtu_fits,  # NG117
    links.vlan_name_settable,  # NG118
    links.members_named,  # NG119
    links.offloads_named,  # NG120
    addresses.addresses_inside_network,  # NG201
    addresses.unique_addresses,  # NG202
    addresses.usable_addresses,  # NG203
    addresses.gateways_inside_network,  # NG204
    links.route_gateways_reachable,  # NG211
    families.families_used,  # NG205
    families.families_have_cidrs,  # NG206
    families.one_per_family,  # NG207
    families.service_cidr_size,  # NG209
    families.no_overlaps,  # NG210
    vips.vips_in_one_network,  # NG301
    vips.vips_free,  # NG302
    vips.controlplanes_reach_vip,  # NG303
    vips.legacy_single_vip,  # NG304
    node_ip.node_network_known,  # NG305
    node_ip.hosts_on_node_network,  # NG306
    node_ip.node_network_families,  # NG307
    node_ip.node_address_selected,  # NG308
    node_ip.node_ip_exclude_on_node_network,  # NG309
    metallb.pools_disjoint,  # NG502
    metallb.pools_free,  # NG503
    metallb.l2_interfaces_known,  # NG504
    metallb.vmxnet3_offloads,  # NG505
    metallb.pools_announced,  # NG506
    metallb.peers_reachable,  # NG507
    metallb.asns_valid,  # NG508
    metallb.ibgp_single_hop,  # NG509
    metallb.aggregation_fits,  # NG510
    metallb.local_pref_agrees,  # NG511
    metallb.one_password,  # NG512
    metallb.bgp_names,  # NG513
    metallb.one_local_asn,  # NG514
    attachments.one_master_name,  # NG601
    attachments.master_name_known,  # NG602
    attachments.attachment_mac_usable,  # NG603
    attachments.fixed_mac_single_pod,  # NG604
    attachments.ipam_complete,  # NG605
    attachments.ipam_inside_cidrs,  # NG606
    attachments.ipam_on_network,  # NG607
    attachments.ipam_avoids_used_addresses,  # NG608
    attachments.ipam_disjoint,  # NG609
    attachments.attachment_on_every_host,  # NG610
    attachments.host_local_single_node,  # NG611
    attachments.kube_ovn_subnets_disjoint,  # NG612
    attachments.bridge_on_a_bridge,  # NG613
    attachments.keys_fit_type,  # NG614
    attachments.bridge_vlan_isolated,  # NG615
    attachments.bridge_gateway_unique,  # NG616
    attachments.mode_fits_type,  # NG617
    attachments.mac_fits_type,  # NG618
    attachments.host_device_usable,  # NG619
    attachments.required_keys,  # NG620
    attachments.sysctls_under_net,  # NG621
    attachments.masters_shareable,  # NG622
    vclusters.service_cidr_settable,  # NG701
    vclusters.k0s_single_family,  # NG702
    vclusters.distro_in_version,  # NG703
)


def run_checks(clusters: Sequence[Cluster]) -> list[Diagnostic]:
    """Every rule's diagnostics, rule by rule and cluster by cluster (the per-cluster rules of
    large fleets run on every core)."""
    cluster_checks = [(rule, rule.cluster_check) for rule in RULES if rule.cluster_check is not None]

    def check_cluster(cluster: Cluster) -> list[list[Diagnostic]]:
        return [rule.diagnostics(check(cluster)) for rule, check in cluster_checks]

    by_cluster = per_cluster(check_cluster, clusters)
    position = {rule: index for index, (rule, _) in enumerate(cluster_checks)}
    diagnostics: list[Diagnostic] = []
    for rule in RULES:
        if rule.inventory_check is not None:
            diagnostics += rule.diagnostics(rule.inventory_check(clusters))
        else:
            diagnostics += [d for found in by_cluster for d in found[position[rule]]]
    return diagnostics
