/*
 * main.c: rtowatchd's flags, start-up, signals and shutdown.
 *
 * main owns the event loop; every module is handed the event_base.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <event2/dns.h>
#include <event2/event.h>

#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "conf.h"
#include "control.h"
#include "engine.h"
#include "history.h"
#include "journal.h"
#include "lazylib.h"
#include "lead.h"
#include "log.h"
#include "mailer.h"
#include "monitor.h"
#include "notice.h"
#include "priv.h"
#include "probe.h"
#include "resolve.h"
#include "rtowatch.h"
#include "sdnotify.h"
#include "store.h"
#include "storewatch.h"
#include "util.h"
#include "wallclock.h"
#include "webhook.h"
#include "web.h"

struct rtowatchd {
	const char		*conf_path;
	struct conf		*conf;
	struct event_base	*base;
	struct evdns_base	*dns;
	struct store		*store;
	struct storewatch	*storewatch;	/* its file, deleted or replaced */
	struct engine		*engine;
	struct monitors		*monitors;
	struct history		*history;	/* response times */
	struct event		*watchdog;
	struct control		*control;
	struct mailer		*mailer;
	struct webhook		*webhook;
	struct capture		*capture;	/* anomaly blocks */
	struct web		*web;		/* NULL: set web listen unset */
	struct lead		*lead;		/* which node leads */
	int			 exit_code;
};

/* New rows in the outbox (notice.c): both its senders look. */
static void
rtowatchd_outbox_kick(void *arg)
{
	struct rtowatchd	*d = arg;

	mailer_kick(d->mailer);
	webhook_kick(d->webhook);
}

/*
 * This node leads (lead.c): at start on SQLite, at a takeover on a
 * shared PostgreSQL register.  Either way it is a start after kill -9:
 * the open outages, the clocks and the outbox are read from the
 * register, by the same calls, and everything goes on from there.
 */
static void
rtowatchd_lead(struct rtowatchd *d)
{
	store_set_leading(d->store, 1);
	if (engine_recover(d->engine) == -1)
		fatalx("%s: cannot read open outages", d->conf->database);
	engine_set_leading(d->engine, 1);
	capture_end_orphans(d->capture);
	capture_start_live(d->capture, d->base);
	rtowatchd_outbox_kick(d);
	sdnotifyf("STATUS=leading, watching %d systems",
	    d->conf->nsystems);
}

/*
 * The lead's changes.  Suspended (its lock's session lost), the leader
 * goes on watching and deciding, and the store holds every change and
 * sends nothing until lead.c knows; resumed, the store writes them and
 * the outbox goes on.  Lost (another node leads or led), nothing more is
 * written or sent from here (the store drops what it held) and the
 * daemon stops; its service manager starts it again, as a standby.
 */
static void
rtowatchd_lead_cb(enum lead_change what, void *arg)
{
	struct rtowatchd	*d = arg;

	switch (what) {
	case LEAD_TAKE:
		rtowatchd_lead(d);
		break;
	case LEAD_SUSPEND:
		store_suspend(d->store, 1);
		break;
	case LEAD_RESUME:
		store_suspend(d->store, 0);
		rtowatchd_outbox_kick(d);
		break;
	case LEAD_LOST:
		store_set_leading(d->store, 0);
		engine_set_leading(d->engine, 0);
		log_warnx("lead: stopping at once, to start again as a "
		    "standby");
		d->exit_code = 75;	/* EX_TEMPFAIL */
		event_base_loopexit(d->base, NULL);
		break;
	}
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: rtowatchd [-dnv] [-f file] "
	    "[-p | --pcap-file capture]\n"
	    "       rtowatchd -h | --help | -V | --version\n");
	exit(1);
}

static void
help(void)
{
	printf("usage: rtowatchd [-dnv] [-f file] [-p | --pcap-file capture]\n"
	    "       rtowatchd -h | --help | -V | --version\n"
	    "the rtowatch daemon: watches the rules' systems and opens, "
	    "times and\nnotifies their incidents (IMS-P-009)\n"
	    "  -d            stay in the foreground, log to stderr\n"
	    "  -f file       the rules (default %s)\n"
	    "  -n            check the rules: \"configuration OK\" or every "
	    "error, then exit\n"
	    "  -v            log debug messages too\n"
	    "  -p, --pcap-file capture\n"
	    "                run a capture file through the rules' anomaly "
	    "blocks, then exit\n"
	    "  -R, --routes  print the control socket's routes\n"
	    "  -h, --help    this help;  -V, --version  the version\n"
	    "see rtowatchd(8), rtowatch.conf(5), rtowatch(1)\n",
	    CONF_DEFAULT_PATH);
}

static void
print_conf_errors(struct conf_errors *errs)
{
	size_t	 i;

	for (i = 0; i < errs->count; i++)
		log_warnx("%s", errs->msg[i]);
	conf_errors_clear(errs);
}

static int
streq_null(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/*
 * Point every module at the rules CONF, which they borrow until the next
 * call: at start with the first rules, on SIGHUP with new ones (the caller
 * frees the old ones after).  One order for both, and why:
 *  - the monitors go first: their probes in flight hold the old rules'
 *    checks, and are cancelled before anything else lets go of them;
 *  - then the capture, if made yet, before the engine: the blocks the new
 *    rules drop end, and relate their warnings to incidents, while the
 *    engine still holds the systems they were opened under;
 *  - then what only copies settings or keeps the pointer (resolver, store,
 *    notices, mailer), which nothing below reads from during this call;
 *  - the engine, whose systems the monitors' results name;
 *  - the control socket's roles, if it is open yet (at start the capture
 *    and the socket are made after this, from the same CONF);
 *  - last the monitors anew, and the engine's way to ask them for a probe
 *    out of turn, which must never point at the stopped ones.
 * Nothing here runs a probe or the loop: the first results arrive after
 * the caller returns to event_base_dispatch().
 */
static void
rtowatchd_configure(struct rtowatchd *d, struct conf *conf)
{
	monitors_stop(d->monitors);
	d->monitors = NULL;
	engine_set_prober(d->engine, NULL, NULL);
	/* Blocks defined as before go on, episodes and all. */
	if (d->capture != NULL)
		capture_reload(d->capture, conf, d->base);
	resolve_configure(conf);
	store_set_alert(d->store, conf->store_alert_after_ms);
	notice_configure(conf);
	/* A node that only observes (set lead no) sends nothing. */
	if (conf->lead) {
		mailer_configure(d->mailer, conf);
		webhook_configure(d->webhook, conf);
	}
	engine_configure(d->engine, conf);
	if (d->control != NULL) {
		control_configure(d->control, conf);
		/* The page reads through the control socket's routes. */
		d->web = web_configure(d->web, d->base, d->control, conf);
	}
	history_configure(d->history, conf);
	d->monitors = monitors_start(d->base, d->dns, conf, d->engine,
	    d->history);
	engine_set_prober(d->engine, monitors_probe_now, d->monitors);
	lazylib_trim();
}

static void
rtowatchd_reload(struct rtowatchd *d)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;

	sdnotify("RELOADING=1");
	log_info("reloading %s", d->conf_path);
	if ((conf = conf_load(d->conf_path, &errs)) == NULL) {
		print_conf_errors(&errs);
		log_warnx("%s: not reloaded, still running on the previous "
		    "rules", d->conf_path);
		sdnotify("READY=1");
		return;
	}
	setenv("TZ", conf->timezone, 1);
	tzset();
	if (strcmp(conf->socket, d->conf->socket) != 0)
		log_warnx("control socket changed to %s: takes effect at "
		    "restart; still on %s", conf->socket, d->conf->socket);
	if (strcmp(conf->database, d->conf->database) != 0)
		log_warnx("database changed to %s: takes effect at restart; "
		    "still writing %s", conf->database, d->conf->database);
	if (!streq_null(conf->user, d->conf->user) ||
	    !streq_null(conf->group, d->conf->group))
		log_warnx("set user/set group changed: takes effect at "
		    "restart");
	if (conf->lead != d->conf->lead ||
	    strcmp(conf->node_name, d->conf->node_name) != 0) {
		log_warnx("set lead/set node changed: takes effect at "
		    "restart");
		conf->lead = d->conf->lead;
		free(conf->node_name);
		conf->node_name = xstrdup(d->conf->node_name);
	}
	rtowatchd_configure(d, conf);
	conf_free(d->conf);
	d->conf = conf;
	sdnotify("READY=1");
}

static void
signal_cb(evutil_socket_t sig, short events, void *arg)
{
	struct rtowatchd	*d = arg;

	(void)events;
	switch (sig) {
	case SIGHUP:
		rtowatchd_reload(d);
		break;
	case SIGUSR1:
		monitors_log_stats(d->monitors);
		if (d->capture != NULL)
			capture_log_stats(d->capture);
		break;
	case SIGTERM:
	case SIGINT:
		log_info("%s, shutting down", strsignal(sig));
		event_base_loopexit(d->base, NULL);
		break;
	}
}

/*
 * Fired from the loop itself, so a loop stuck in a callback stops the
 * pings and systemd restarts the service after WatchdogSec=.
 */
static void
watchdog_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
	sdnotify("WATCHDOG=1");
}

/* Ping at half the interval systemd gave us, if it gave one. */
static void
watchdog_start(struct rtowatchd *d)
{
	struct timeval	 tv;
	uint64_t	 usec;

	if (sdnotify_watchdog(&usec) <= 0 || usec == 0)
		return;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	if ((d->watchdog = event_new(d->base, -1, EV_PERSIST, watchdog_cb,
	    d)) == NULL)
		fatalx("event_new failed");
	evtimer_add(d->watchdog, &tv);
	log_info("watchdog: pinging systemd every %lld.%03ld s",
	    (long long)tv.tv_sec, (long)(tv.tv_usec / 1000));
}

/* The directory of PATH, made for the service account if missing. */
static int
own_parent_dir(const char *path, mode_t mode)
{
	char	*dir, *slash;
	int	 rc = 0;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		rc = priv_own_dir(dir, mode);
	}
	free(dir);
	return rc;
}

/*
 * The records are sensitive (5.3.6.4): the database and its WAL files are
 * 0640, the service account's, in a directory it can write (SQLite puts
 * its -wal and -shm files beside the database).
 */
static void
database_prepare(const char *path)
{
	static const char *const	 suffixes[] = { "-wal", "-shm" };
	char				*side;
	size_t				 i;

	/* A PostgreSQL server keeps its own files. */
	if (database_is_pg(path))
		return;
	if (own_parent_dir(path, 0750) == -1)
		fatalx("%s: no directory for the database", path);
	priv_own_file(path, 0640);
	/* Left by a crash of a run as root: ours too now. */
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		xasprintf(&side, "%s%s", path, suffixes[i]);
		if (access(side, F_OK) == 0)
			priv_own_file(side, 0640);
		free(side);
	}
}

/*
 * --pcap-file: the anomaly blocks read one capture file, record what they
 * find and the daemon exits at its end.  No probe runs and no socket
 * opens: it is a replay of the traffic, not a watch of the systems.
 */
static int
rtowatchd_pcap_file(struct rtowatchd *d, const char *path)
{
	int	 rc;

	if (TAILQ_EMPTY(&d->conf->anomalies)) {
		log_warnx("%s: no anomaly block to feed %s", d->conf_path,
		    path);
		conf_free(d->conf);
		return 1;
	}
	if ((d->store = store_open(d->conf->database)) == NULL)
		fatalx("%s: cannot open the database", d->conf->database);
	d->capture = capture_new(d->store, d->conf);
	rc = capture_run_file(d->capture, path);
	capture_free(d->capture);
	store_close(d->store);
	conf_free(d->conf);
	return rc == 0 ? 0 : 1;
}

/* Under systemd we neither fork nor need -d: it keeps our pid. */
static int
under_systemd(void)
{
	return getenv("NOTIFY_SOCKET") != NULL ||
	    getenv("INVOCATION_ID") != NULL;
}

/*
 * Every probe in flight holds a descriptor, and the default soft limit
 * (1024) is a relic of select(2), which nothing here uses: take the hard
 * limit (systemd/rtowatchd.service sets it).  control.c keeps a quarter
 * of whatever this gives for the probes.
 */
static void
raise_fd_limit(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit");
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("cannot raise the descriptor limit");
	}
	if (rl.rlim_cur != RLIM_INFINITY)
		log_info("descriptor limit %llu",
		    (unsigned long long)rl.rlim_cur);
}

int
main(int argc, char *argv[])
{
	static const int	 sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
	struct event		*sigev[sizeof(sigs) / sizeof(sigs[0])];
	struct rtowatchd	 d;
	sigset_t		 held;
	static const struct option longopts[] = {
		{ "pcap-file", required_argument, NULL, 'p' },
		{ "routes", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf_errors	 errs = { NULL, 0 };
	const char		*pcap_file = NULL;
	int			 ch, debug = 0, noaction = 0, verbose = 0;
	int			 fflag = 0;
	size_t			 i;

	memset(&d, 0, sizeof(d));
	d.conf_path = CONF_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "df:hnp:RvV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			d.conf_path = optarg;
			fflag = 1;
			break;
		case 'h':
			help();
			return 0;
		case 'n':
			noaction = 1;
			break;
		case 'p':
			pcap_file = optarg;
			break;
		case 'R':
			/* The control socket's routes, for the API's test. */
			control_routes_print(stdout);
			return 0;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("rtowatchd %s\n", RTOWATCH_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	/*
	 * Blocks of 128 kB and more are mapped of their own, and unmapped
	 * when freed, always.  glibc raises that threshold to the largest
	 * block freed so far (up to 32 MB), so after the first backlog the
	 * big arrays of a burst (the results queued, the minute's history
	 * buckets) were put in the heap, whose pages stayed resident until
	 * the history's malloc_trim, up to a minute later.  Mapped, only
	 * the pages used are resident, and all leave at free().  Fixed,
	 * the threshold also fixes the free top of the heap given back at
	 * free() to 128 kB.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	log_init("rtowatchd", debug || noaction || pcap_file != NULL ||
	    !under_systemd() ? 1 : 0,
	    verbose);
	if (!debug && !noaction && journal_wanted())
		journal_init("rtowatchd");
	/* The default is where the package puts it; say so, not ":0:". */
	if (!fflag && access(d.conf_path, F_OK) == -1 && errno == ENOENT) {
		log_warnx("no rules file at %s, the default: give one with "
		    "-f FILE (the source tree's is rules/local.conf, the "
		    "annotated example rules/example.conf)", d.conf_path);
		return 1;
	}
	if ((d.conf = conf_load(d.conf_path, &errs)) == NULL) {
		print_conf_errors(&errs);
		return 1;
	}
	/* Maintenance windows are local times of the configured zone. */
	setenv("TZ", d.conf->timezone, 1);
	tzset();
	if (noaction) {
		printf("configuration OK\n");
		conf_free(d.conf);
		return 0;
	}
	if (pcap_file != NULL)
		return rtowatchd_pcap_file(&d, pcap_file);
	/*
	 * SIGTERM, SIGINT, SIGHUP and SIGUSR1 wait, blocked, until the loop
	 * has its handlers for them.  From here the daemon writes records
	 * (store_open, the left-open warnings, the first incidents), and a
	 * stop that came then (systemctl stop during a slow start, a test
	 * stopping it as soon as the records show it) killed it mid-start
	 * by the default action; now it is handled when the loop runs, as
	 * a clean stop.  The mailer's threads, made meanwhile, keep them
	 * blocked, so that they reach this thread only.
	 */
	sigemptyset(&held);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&held, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &held, NULL) == -1)
		fatal("sigprocmask");
	if (!debug && !under_systemd()) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("rtowatchd", 0, verbose);
	}

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((d.dns = resolve_base_new(d.base, d.conf)) == NULL)
		log_warnx("no DNS resolver: checks by host name will fail");
	/* Raw sockets first, while we are root (if we are). */
	if (probe_init_all(d.base, d.dns) == -1)
		fatalx("cannot set up the probes");
	priv_init(d.conf->user, d.conf->group);
	database_prepare(d.conf->database);
	if ((d.store = store_open(d.conf->database)) == NULL)
		fatalx("%s: cannot open the database", d.conf->database);
	store_start(d.store, d.base);
	/*
	 * The control socket's directory (/run/rtowatch) is made now for the
	 * service account, which binds the socket in it after the drop and
	 * can remove it at exit.  Everyone may reach it: control.c decides
	 * who may do what by the caller's account.  Without it the daemon
	 * still watches (control_start() below says what is missing).
	 */
	(void)own_parent_dir(d.conf->socket, 0755);
	priv_drop();
	/* It watches the SQLite file; a PostgreSQL server has none here. */
	if (store_sqlite(d.store) != NULL)
		d.storewatch = storewatch_new(d.base, d.store);
	d.mailer = mailer_new(d.base, d.store);
	d.webhook = webhook_new(d.base, d.store);
	notice_set_kick(rtowatchd_outbox_kick, &d);
	d.engine = engine_new(d.base, d.store);
	d.history = history_new(d.base, d.store);
	rtowatchd_configure(&d, d.conf);
	/* The deadlines are wall-clock times: follow the clock's jumps. */
	wallclock_start(d.base, engine_clock_jumped, d.engine);
	/* Capturing needs CAP_NET_RAW, which priv_drop() kept. */
	d.capture = capture_new(d.store, d.conf);
	capture_set_engine(d.capture, d.engine);
	/*
	 * Before any probe's result (the monitors only armed their timer),
	 * SQLite's one node leads (rtowatchd_lead); a node of a shared
	 * register stands by until it gets the lead.
	 */
	engine_set_leading(d.engine, 0);
	d.lead = lead_start(d.base, d.store, d.conf, rtowatchd_lead_cb, &d);
	/*
	 * Watching and the clocks matter more than the socket: without it
	 * the daemon goes on, and rtowatch --db still reads the records.
	 */
	if ((d.control = control_start(d.base, d.engine, d.store,
	    d.conf)) == NULL)
		log_warnx("%s: no control socket; workflow actions and the "
		    "event stream are unavailable until a restart",
		    d.conf->socket);
	else {
		control_set_capture(d.control, d.capture);
		d.web = web_configure(NULL, d.base, d.control, d.conf);
	}

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if ((sigev[i] = evsignal_new(d.base, sigs[i], signal_cb,
		    &d)) == NULL)
			fatalx("evsignal_new failed");
		evsignal_add(sigev[i], NULL);
	}
	if (sigprocmask(SIG_UNBLOCK, &held, NULL) == -1)
		fatal("sigprocmask");

	log_info("rtowatchd %s started: rules %s, database %s",
	    RTOWATCH_VERSION, d.conf_path, d.conf->database);
	sdnotifyf("READY=1\nSTATUS=watching %d systems",
	    d.conf->nsystems);
	watchdog_start(&d);
	event_base_dispatch(d.base);
	sdnotify("STOPPING=1");

	if (d.watchdog != NULL)
		event_free(d.watchdog);

	for (i = sizeof(sigs) / sizeof(sigs[0]); i-- > 0;)
		event_free(sigev[i]);
	monitors_stop(d.monitors);
	lead_free(d.lead);
	history_free(d.history);
	web_free(d.web);
	control_free(d.control);
	capture_stop(d.capture, "rtowatchd stopped");
	capture_free(d.capture);
	probe_shutdown_all();
	wallclock_stop();
	engine_free(d.engine);
	notice_set_kick(NULL, NULL);
	webhook_free(d.webhook);
	mailer_free(d.mailer);
	storewatch_free(d.storewatch);
	store_close(d.store);
	if (d.dns != NULL)
		evdns_base_free(d.dns, 0);
	event_base_free(d.base);
	conf_free(d.conf);
	log_info("stopped");
	return d.exit_code;
}
