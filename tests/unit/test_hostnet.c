/*
 * test_hostnet.c: reading the kernel's tables for "has this host lost its
 * network": the default route, the gateway's ARP entry, the IPv6 default
 * route and a link's operstate, from the tables' real text.
 */
#include <arpa/inet.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hostnet.h"

static const char route[] =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask"
    "\t\tMTU\tWindow\tIRTT\n"
    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
    "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n";

static const char arp_ok[] =
    "IP address       HW type     Flags       HW address            "
    "Mask     Device\n"
    "192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *"
    "        eth0\n";

static const char arp_incomplete[] =
    "IP address       HW type     Flags       HW address            "
    "Mask     Device\n"
    "192.0.2.1        0x1         0x0         00:00:00:00:00:00     *"
    "        eth0\n";

static const char route6[] =
    "fe800000000000000000000000000000 40 00000000000000000000000000000000"
    " 00 00000000000000000000000000000000 00000100 00000001 00000000"
    " 00000001     eth0\n"
    "00000000000000000000000000000000 00 00000000000000000000000000000000"
    " 00 fe800000000000000000000000000001 00000400 00000001 00000000"
    " 00000003     eth0\n";

static const char route6_lo[] =
    "00000000000000000000000000000000 00 00000000000000000000000000000000"
    " 00 00000000000000000000000000000000 ffffffff 00000001 00000000"
    " 00200200       lo\n";

static void
test_default_route(void **state)
{
	char		 ifname[64];
	unsigned	 gw;
	struct in_addr	 in;

	(void)state;
	assert_int_equal(hostnet_default_route(route, ifname,
	    sizeof(ifname), &gw), 1);
	assert_string_equal(ifname, "eth0");
	inet_pton(AF_INET, "192.0.2.1", &in);
	assert_true(gw == in.s_addr);
	/* Only the on-link route: no default. */
	assert_int_equal(hostnet_default_route("Iface\tDestination\n"
	    "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n",
	    ifname, sizeof(ifname), &gw), 0);
	assert_int_equal(hostnet_default_route("", ifname, sizeof(ifname),
	    &gw), 0);
}

static void
test_neighbour(void **state)
{
	struct in_addr	 in, other;

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", &in);
	inet_pton(AF_INET, "192.0.2.9", &other);
	assert_int_equal(hostnet_neighbour_ok(arp_ok, in.s_addr, "eth0"), 1);
	assert_int_equal(hostnet_neighbour_ok(arp_incomplete, in.s_addr,
	    "eth0"), 0);
	assert_int_equal(hostnet_neighbour_ok(arp_ok, other.s_addr, "eth0"),
	    0);
	assert_int_equal(hostnet_neighbour_ok(arp_ok, in.s_addr, "eth1"), 0);
	assert_int_equal(hostnet_neighbour_ok("", in.s_addr, "eth0"), 0);
}

static void
test_ipv6_default(void **state)
{
	char	 ifname[64];

	(void)state;
	assert_int_equal(hostnet_ipv6_default(route6, ifname,
	    sizeof(ifname)), 1);
	assert_string_equal(ifname, "eth0");
	/* The kernel's "unreachable" default on lo is no way out. */
	assert_int_equal(hostnet_ipv6_default(route6_lo, ifname,
	    sizeof(ifname)), 0);
}

static void
test_operstate(void **state)
{
	(void)state;
	assert_true(hostnet_operstate_up("up\n"));
	assert_true(hostnet_operstate_up("unknown\n"));
	assert_false(hostnet_operstate_up("down\n"));
	assert_false(hostnet_operstate_up("lowerlayerdown\n"));
	assert_false(hostnet_operstate_up(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_route),
		cmocka_unit_test(test_neighbour),
		cmocka_unit_test(test_ipv6_default),
		cmocka_unit_test(test_operstate),
	};

	return cmocka_run_group_tests_name("hostnet", tests, NULL, NULL);
}
