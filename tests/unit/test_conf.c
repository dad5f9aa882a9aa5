/*
 * test_conf.c: the rules parser, on good files and on every error it
 * reports, message for message.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "probe.h"

#define SYS_HEAD	"system \"s\" {\n core yes\n rto 1m\n"

static struct conf *
parse(const char *text, struct conf_errors *errs)
{
	return conf_parse_buffer("t.conf", text, strlen(text), errs);
}

static void
test_good(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	struct system_conf	*sys;
	struct check_conf	*cc;

	(void)state;
	conf = parse(
	    "# comment\n"
	    "set database \"/tmp/x.db\"\n"
	    "system \"郵件系統\" {\n"
	    "\tcore yes; critical-infrastructure yes\n"
	    "\trto 4h\n"
	    "\towner \"System Group\"   # trailing comment\n"
	    "\tcheck tcp 192.0.2.25 port 25 every 10s timeout 1s\n"
	    "\tcheck tcp mail.example.edu port 993\n"
	    "\tdown after 5 failures\n"
	    "\tup after 1 success\n"
	    "}\n"
	    "system web { core no; rto 90s; check tcp 2001:db8::1 port 443 "
	    "every 1s }\n", &errs);
	assert_int_equal(errs.count, 0);
	assert_non_null(conf);
	assert_string_equal(conf->database, "/tmp/x.db");
	assert_int_equal(conf->nsystems, 2);

	sys = TAILQ_FIRST(&conf->systems);
	assert_string_equal(sys->name, "郵件系統");
	assert_int_equal(sys->core, 1);
	assert_int_equal(sys->critical_infrastructure, 1);
	assert_true(sys->rto_ms == 4 * 3600 * 1000LL);
	assert_string_equal(sys->owner, "System Group");
	assert_int_equal(sys->down_after, 5);
	assert_int_equal(sys->up_after, 1);
	assert_int_equal(sys->nchecks, 2);
	cc = TAILQ_FIRST(&sys->checks);
	assert_ptr_equal(cc->ops, &probe_tcp_ops);
	assert_string_equal(cc->target, "192.0.2.25");
	assert_true(cc->every_ms == 10000 && cc->timeout_ms == 1000);
	assert_int_equal(cc->line, 7);
	cc = TAILQ_NEXT(cc, entry);
	assert_true(cc->every_ms == CONF_DEFAULT_EVERY_MS);
	assert_true(cc->timeout_ms == CONF_DEFAULT_TIMEOUT_MS);

	sys = TAILQ_NEXT(sys, entry);
	assert_string_equal(sys->name, "web");
	assert_int_equal(sys->critical_infrastructure, 0);
	assert_int_equal(sys->down_after, CONF_DEFAULT_DOWN_AFTER);
	assert_int_equal(sys->up_after, CONF_DEFAULT_UP_AFTER);
	cc = TAILQ_FIRST(&sys->checks);
	/* An unset timeout shrinks below a short interval. */
	assert_true(cc->every_ms == 1000 && cc->timeout_ms == 500);
	assert_non_null(conf_find_system(conf, "web"));
	assert_null(conf_find_system(conf, "nope"));
	conf_free(conf);
}

static void
test_durations(void **state)
{
	static const struct {
		const char	*text;
		int64_t		 ms;
	} good[] = {
		{ "250ms", 250 }, { "30s", 30000 }, { "5m", 300000 },
		{ "4h", 14400000 }, { "3d", 259200000 }, { "0s", 0 },
	};
	static const char *const bad[] = {
		"5", "5x", "s", "-1s", "1.5h", "5 m", "", "99999999999999999d",
		"1sm",
	};
	int64_t	 ms;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(conf_parse_duration(good[i].text, &ms), 0);
		assert_true(ms == good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(conf_parse_duration(bad[i], &ms), -1);
}

/* Each bad input and the exact errors it must give, in order. */
static const struct {
	const char	*text;
	const char	*errors[4];
} bad_cases[] = {
	{ "frobnicate yes\n",
	  { "t.conf:1: unknown keyword \"frobnicate\"" } },
	{ "set colour \"red\"\n",
	  { "t.conf:1: unknown setting \"colour\"" } },
	{ "\n\n" SYS_HEAD " colour red\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:6: unknown keyword \"colour\" in system \"s\"" } },
	{ "system \"s\" {\n core yes\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:1: system \"s\": missing rto (its recovery time "
	    "objective decides general or major)" } },
	{ "system \"s\" {\n rto 1m\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:1: system \"s\": missing \"core yes|no\" (it decides "
	    "the level, 5.3.2)" } },
	{ SYS_HEAD "}\n",
	  { "t.conf:1: system \"s\": no check" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n"
	  "\n" SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:7: duplicate system \"s\" (first defined at "
	    "t.conf:1)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1 every 1s timeout 1s\n}\n",
	  { "t.conf:4: timeout 1s must be below the interval 1s" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1 every 2s timeout 5s\n}\n",
	  { "t.conf:4: timeout 5s must be below the interval 2s" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 0\n}\n",
	  { "t.conf:4: port 0 out of range (1-65535)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 65536\n}\n",
	  { "t.conf:4: port 65536 out of range (1-65535)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port http\n}\n",
	  { "t.conf:4: port: \"http\" is not a number" } },
	{ SYS_HEAD " check tcp 127.0.0.1\n}\n",
	  { "t.conf:4: tcp check of 127.0.0.1: missing \"port N\"" } },
	{ SYS_HEAD " check tcp \"a b\" port 1\n}\n",
	  { "t.conf:4: tcp check: \"a b\" is not a host name or address" } },
	{ SYS_HEAD " check smoke 127.0.0.1\n}\n",
	  { "t.conf:4: unknown check kind \"smoke\"" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1 colour red\n}\n",
	  { "t.conf:4: unknown tcp check option \"colour\"" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1 every 50ms\n}\n",
	  { "t.conf:4: every 50ms out of range (100ms-1d)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1 every 2d\n}\n",
	  { "t.conf:4: every 2d out of range (100ms-1d)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n down after 0 failures\n}\n",
	  { "t.conf:5: down after 0 out of range (1-100)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n up after 101\n}\n",
	  { "t.conf:5: up after 101 out of range (1-100)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n down 3\n}\n",
	  { "t.conf:5: expected \"after\", found \"3\"" } },
	{ "system \"s\" {\n core maybe\n rto 1m\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:2: core must be yes or no, not \"maybe\"" } },
	{ "system \"s\" {\n core yes\n rto 5x\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:3: rto: \"5x\" is not a duration (a number with ms, s, "
	    "m, h or d)" } },
	{ "system \"s\" {\n core yes\n rto 500ms\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:3: rto 500ms out of range (1s-365d)" } },
	{ SYS_HEAD " rto 2m\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:4: rto set twice" } },
	{ SYS_HEAD " owner \"unterminated\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:4: unterminated string" } },
	{ SYS_HEAD " owner \"a\\qb\"\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:4: unknown escape \\q in string" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n",
	  { "t.conf:1: system \"s\": missing '}'" } },
	{ "system \"s\" core yes\n",
	  { "t.conf:1: expected '{' after system \"s\"",
	    "t.conf:1: system \"s\": missing rto (its recovery time "
	    "objective decides general or major)",
	    "t.conf:1: system \"s\": missing \"core yes|no\" (it decides "
	    "the level, 5.3.2)",
	    "t.conf:1: system \"s\": no check" } },
	{ "}\n", { "t.conf:1: unexpected '}'" } },
	{ "set database\n", { "t.conf:1: missing database path" } },
	{ "set database \"a\" \"b\"\n",
	  { "t.conf:1: unexpected \"b\" at end of statement" } },
	{ "include \"/nonexistent/rtowatch-test.conf\"\n",
	  { "t.conf:1: cannot open \"/nonexistent/rtowatch-test.conf\": "
	    "No such file or directory" } },
	/* Several errors in one file: all of them, each at its line. */
	{ "bogus\n" SYS_HEAD " check tcp 127.0.0.1 port 99999\n"
	  " down after 0\n}\n",
	  { "t.conf:1: unknown keyword \"bogus\"",
	    "t.conf:5: port 99999 out of range (1-65535)",
	    "t.conf:6: down after 0 out of range (1-100)" } },
};

static void
test_errors(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	size_t			 i;
	int			 j, n;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		conf = parse(bad_cases[i].text, &errs);
		assert_null(conf);
		for (n = 0; n < 4 && bad_cases[i].errors[n] != NULL; n++)
			;
		if (errs.count != n)
			for (j = 0; j < errs.count; j++)
				print_error("case %zu: %s\n", i, errs.msg[j]);
		assert_int_equal(errs.count, n);
		for (j = 0; j < n; j++)
			assert_string_equal(errs.msg[j],
			    bad_cases[i].errors[j]);
		conf_errors_clear(&errs);
	}
}

/* Runaway input is cut off at CONF_MAX_ERRORS, with a last word. */
static void
test_too_many_errors(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	char			*text;
	size_t			 i, len = 0;

	(void)state;
	text = malloc(500 * 4 + 1);
	assert_non_null(text);
	for (i = 0; i < 500; i++)
		len += (size_t)sprintf(text + len, "xx\n");
	assert_null(conf_parse_buffer("t.conf", text, len, &errs));
	assert_int_equal(errs.count, CONF_MAX_ERRORS + 1);
	assert_string_equal(errs.msg[CONF_MAX_ERRORS],
	    "t.conf:101: too many errors, giving up");
	conf_errors_clear(&errs);
	free(text);
}

/* Includes: relative to the including file; errors name the included file. */
static void
test_include(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	char			 dir[] = "/tmp/rtowatch-test-XXXXXX";
	char			 main_path[128], sub_path[128], *msg;
	FILE			*fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(main_path, sizeof(main_path), "%s/main.conf", dir);
	snprintf(sub_path, sizeof(sub_path), "%s/sub.conf", dir);

	fp = fopen(main_path, "w");
	assert_non_null(fp);
	fprintf(fp, "set database \"data/r.db\"\ninclude \"sub.conf\"\n");
	fclose(fp);
	fp = fopen(sub_path, "w");
	assert_non_null(fp);
	fprintf(fp, SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n");
	fclose(fp);
	conf = conf_load(main_path, &errs);
	assert_int_equal(errs.count, 0);
	assert_non_null(conf);
	assert_non_null(conf_find_system(conf, "s"));
	assert_true(strcmp(conf->database, dir) > 0);
	assert_non_null(strstr(conf->database, "/data/r.db"));
	conf_free(conf);

	fp = fopen(sub_path, "w");
	assert_non_null(fp);
	fprintf(fp, "\n\nnonsense\n");
	fclose(fp);
	assert_null(conf_load(main_path, &errs));
	assert_int_equal(errs.count, 1);
	assert_true(asprintf(&msg, "%s:3: unknown keyword \"nonsense\"",
	    sub_path) > 0);
	assert_string_equal(errs.msg[0], msg);
	free(msg);
	conf_errors_clear(&errs);

	/* A file that includes itself stops at the depth limit. */
	fp = fopen(sub_path, "w");
	assert_non_null(fp);
	fprintf(fp, "include \"sub.conf\"\n");
	fclose(fp);
	assert_null(conf_load(main_path, &errs));
	assert_int_equal(errs.count, 1);
	assert_non_null(strstr(errs.msg[0], "includes nested too deeply"));
	conf_errors_clear(&errs);

	assert_null(conf_load("/nonexistent/rtowatch.conf", &errs));
	assert_int_equal(errs.count, 1);
	assert_string_equal(errs.msg[0], "/nonexistent/rtowatch.conf:0: "
	    "cannot open: No such file or directory");
	conf_errors_clear(&errs);

	unlink(sub_path);
	unlink(main_path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_include),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
