// SPDX-License-Identifier: GPL-2.0
/* Test program for hsnic's XDP actions: UDP to the configured port gets
 * the configured action; REDIRECT bounces it back (MACs and IPs swapped)
 * through bpf_redirect() or a devmap.
 */
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

enum { K_PORT, K_ACT, K_IFINDEX };
enum { A_PASS, A_REDIR, A_REDIR_MAP, A_ABORT, A_DROP, A_TX, A_REDIR_OTHER,
       A_TX_DSTOPT };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} hsx_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} hsx_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hsx_stats SEC(".maps");

static __u32 cfg_get(__u32 k)
{
	__u32 *v = bpf_map_lookup_elem(&hsx_cfg, &k);

	return v ? *v : 0;
}

static int hsx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u8 mac[ETH_ALEN];
	__u32 k = 0, act;
	__u64 *cnt;

	act = cfg_get(K_ACT);
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		__u32 a;

		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_UDP ||
		    ip->ihl != 5)
			return XDP_PASS;
		udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > end ||
		    udp->dest != bpf_htons(cfg_get(K_PORT)))
			return XDP_PASS;
		if (act == A_REDIR_OTHER)
			goto count;
		a = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = a;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		struct in6_addr a;

		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		if (act == A_TX_DSTOPT && ip6->nexthdr == 60) {
			a = ip6->saddr;
			ip6->saddr = ip6->daddr;
			ip6->daddr = a;
			__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
			__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
			__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
			return XDP_TX;
		}
		if (ip6->nexthdr != IPPROTO_UDP)
			return XDP_PASS;
		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > end ||
		    udp->dest != bpf_htons(cfg_get(K_PORT)))
			return XDP_PASS;
		if (act == A_REDIR_OTHER)
			goto count;
		a = ip6->saddr;
		ip6->saddr = ip6->daddr;
		ip6->daddr = a;
	} else {
		return XDP_PASS;
	}

	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);

count:
	cnt = bpf_map_lookup_elem(&hsx_stats, &k);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);

	switch (act) {
	case A_REDIR:
	case A_REDIR_OTHER:
		return bpf_redirect(cfg_get(K_IFINDEX), 0);
	case A_REDIR_MAP:
		return bpf_redirect_map(&hsx_devs, 0, 0);
	case A_ABORT:
		return XDP_ABORTED;
	case A_DROP:
		return XDP_DROP;
	case A_TX:
		return XDP_TX;
	default:
		return XDP_PASS;
	}
}

SEC("xdp")
int hsx_sb(struct xdp_md *ctx)
{
	return hsx(ctx);
}

SEC("xdp.frags")
int hsx_mb(struct xdp_md *ctx)
{
	return hsx(ctx);
}

char _license[] SEC("license") = "GPL";
