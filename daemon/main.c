/*
 * main.c: rtowatchd's flags, start-up, signals and shutdown.
 *
 * main owns the event loop; every module is handed the event_base.
 */
#include <sys/stat.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "conf.h"
#include "control.h"
#include "engine.h"
#include "log.h"
#include "monitor.h"
#include "probe.h"
#include "store.h"
#include "util.h"

#define RTOWATCH_VERSION	"0.1.0"

struct rtowatchd {
	const char		*conf_path;
	struct conf		*conf;
	struct event_base	*base;
	struct evdns_base	*dns;
	struct store		*store;
	struct engine		*engine;
	struct monitors		*monitors;
	struct control		*control;
	struct capture		*capture;	/* anomaly blocks */
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: rtowatchd [-dnv] [-f file] "
	    "[-p | --pcap-file capture]\n");
	exit(1);
}

static void
print_conf_errors(struct conf_errors *errs)
{
	int	 i;

	for (i = 0; i < errs->count; i++)
		log_warnx("%s", errs->msg[i]);
	conf_errors_clear(errs);
}

static void
rtowatchd_reload(struct rtowatchd *d)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;

	sd_notify(0, "RELOADING=1");
	log_info("reloading %s", d->conf_path);
	if ((conf = conf_load(d->conf_path, &errs)) == NULL) {
		print_conf_errors(&errs);
		log_warnx("%s: not reloaded, still running on the previous "
		    "rules", d->conf_path);
		sd_notify(0, "READY=1");
		return;
	}
	setenv("TZ", conf->timezone, 1);
	tzset();
	if (strcmp(conf->socket, d->conf->socket) != 0)
		log_warnx("control socket changed to %s: takes effect at "
		    "restart; still on %s", conf->socket, d->conf->socket);
	/* The capture keeps its handles, and its own copy of the blocks. */
	if (!TAILQ_EMPTY(&conf->anomalies) || !TAILQ_EMPTY(&d->conf->anomalies))
		log_info("anomaly blocks take effect at restart; the capture "
		    "goes on with those it started with");
	if (strcmp(conf->database, d->conf->database) != 0)
		log_warnx("database changed to %s: takes effect at restart; "
		    "still writing %s", conf->database, d->conf->database);
	/* Probes in flight are cancelled before the old rules are freed. */
	monitors_stop(d->monitors);
	engine_configure(d->engine, conf);
	if (d->control != NULL)
		control_configure(d->control, conf);
	d->monitors = monitors_start(d->base, d->dns, conf, d->engine);
	engine_set_prober(d->engine, monitors_probe_now, d->monitors);
	conf_free(d->conf);
	d->conf = conf;
	sd_notify(0, "READY=1");
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

int
main(int argc, char *argv[])
{
	static const int	 sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR1 };
	struct event		*sigev[sizeof(sigs) / sizeof(sigs[0])];
	struct rtowatchd	 d;
	static const struct option longopts[] = {
		{ "pcap-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf_errors	 errs = { NULL, 0 };
	const char		*pcap_file = NULL;
	int			 ch, debug = 0, noaction = 0, verbose = 0;
	size_t			 i;

	memset(&d, 0, sizeof(d));
	d.conf_path = CONF_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "df:hnp:vV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			break;
		case 'f':
			d.conf_path = optarg;
			break;
		case 'n':
			noaction = 1;
			break;
		case 'p':
			pcap_file = optarg;
			break;
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

	log_init("rtowatchd", debug || noaction || pcap_file != NULL ||
	    !under_systemd() ? 1 : 0,
	    verbose);
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
	if (!debug && !under_systemd()) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init("rtowatchd", 0, verbose);
	}

	signal(SIGPIPE, SIG_IGN);
	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((d.dns = evdns_base_new(d.base,
	    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL)
		log_warnx("no DNS resolver: checks by host name will fail");
	if (probe_init_all(d.base, d.dns) == -1)
		fatalx("cannot set up the probes");
	if ((d.store = store_open(d.conf->database)) == NULL)
		fatalx("%s: cannot open the database", d.conf->database);
	d.engine = engine_new(d.base, d.store);
	engine_configure(d.engine, d.conf);
	if (engine_recover(d.engine) == -1)
		fatalx("%s: cannot read open outages", d.conf->database);
	d.monitors = monitors_start(d.base, d.dns, d.conf, d.engine);
	engine_set_prober(d.engine, monitors_probe_now, d.monitors);
	/* Capturing needs CAP_NET_RAW: before privileges go. */
	d.capture = capture_new(d.store, d.conf);
	capture_set_engine(d.capture, d.engine);
	capture_start_live(d.capture, d.base);
	/*
	 * Watching and the clocks matter more than the socket: without it
	 * the daemon goes on, and rtowatch --db still reads the records.
	 */
	if ((d.control = control_start(d.base, d.engine, d.store,
	    d.conf)) == NULL)
		log_warnx("%s: no control socket; workflow actions and the "
		    "event stream are unavailable until a restart",
		    d.conf->socket);

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if ((sigev[i] = evsignal_new(d.base, sigs[i], signal_cb,
		    &d)) == NULL)
			fatalx("evsignal_new failed");
		evsignal_add(sigev[i], NULL);
	}

	log_info("rtowatchd %s started: rules %s, database %s",
	    RTOWATCH_VERSION, d.conf_path, d.conf->database);
	sd_notifyf(0, "READY=1\nSTATUS=watching %d systems",
	    d.conf->nsystems);
	event_base_dispatch(d.base);
	sd_notify(0, "STOPPING=1");

	for (i = sizeof(sigs) / sizeof(sigs[0]); i-- > 0;)
		event_free(sigev[i]);
	monitors_stop(d.monitors);
	capture_free(d.capture);
	control_free(d.control);
	probe_shutdown_all();
	engine_free(d.engine);
	store_close(d.store);
	if (d.dns != NULL)
		evdns_base_free(d.dns, 0);
	event_base_free(d.base);
	conf_free(d.conf);
	log_info("stopped");
	return 0;
}
