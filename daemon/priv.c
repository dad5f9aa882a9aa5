/*
 * priv.c: from root to the service account with only CAP_NET_RAW.
 *
 * The order is the usual one (OpenBSD daemons, fping): everything that
 * needs root is opened by main first, then setgroups, setgid and setuid
 * with PR_SET_KEEPCAPS so that the one capability survives the change of
 * user, and finally a check that root cannot be had back.
 */
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"
#include "util.h"

static struct {
	int	 active;	/* root with an account to become */
	char	*user;
	uid_t	 uid;
	gid_t	 gid;
} priv;

void
priv_init(const char *user, const char *group)
{
	struct passwd	*pw;
	struct group	*gr;

	if (geteuid() != 0) {
		if (user != NULL)
			log_debug("not root: \"set user %s\" left to whoever "
			    "started us (systemd's User=)", user);
		return;
	}
	if (user == NULL) {
		if (group != NULL)
			fatalx("set group \"%s\" needs a set user", group);
		log_warnx("running as root: name an account with set user "
		    "(or start rtowatchd from its systemd unit)");
		return;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		fatalx("set user \"%s\": no such user", user);
	if (pw->pw_uid == 0)
		fatalx("set user \"%s\": that is root", user);
	priv.uid = pw->pw_uid;
	priv.gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL)
			fatalx("set group \"%s\": no such group", group);
		if (gr->gr_gid == 0)
			fatalx("set group \"%s\": that is root's", group);
		priv.gid = gr->gr_gid;
	}
	priv.user = xstrdup(user);
	priv.active = 1;
}

void
priv_own_file(const char *path, mode_t mode)
{
	int	 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    mode)) == -1)
		fatal("%s", path);
	if (priv.active && fchown(fd, priv.uid, priv.gid) == -1)
		fatal("%s: chown to %s", path, priv.user);
	if (fchmod(fd, mode) == -1)
		fatal("%s: chmod", path);
	close(fd);
}

int
priv_own_dir(const char *path, mode_t mode)
{
	struct stat	 st;

	if (mkdir(path, mode) == 0) {
		if (priv.active && chown(path, priv.uid, priv.gid) == -1) {
			log_warn("%s: chown to %s", path, priv.user);
			return -1;
		}
		return 0;
	}
	if (errno != EEXIST || stat(path, &st) == -1) {
		log_warn("%s", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_warnx("%s: not a directory", path);
		return -1;
	}
	/* Someone else's directory: say so rather than take it over. */
	if (priv.active && st.st_uid != priv.uid &&
	    !(st.st_gid == priv.gid && (st.st_mode & S_IWGRP)) &&
	    !(st.st_mode & S_IWOTH)) {
		log_warnx("%s: not writable by %s; chown it or let rtowatchd "
		    "create it", path, priv.user);
		return -1;
	}
	return 0;
}

/* Nothing but CAP_NET_RAW, in the bounding set too. */
static void
priv_caps(void)
{
	static const cap_value_t	 keep[] = { CAP_NET_RAW };
	cap_t				 caps;

	if ((caps = cap_init()) == NULL)
		fatal("cap_init");
	if (cap_set_flag(caps, CAP_PERMITTED, 1, keep, CAP_SET) == -1 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, keep, CAP_SET) == -1)
		fatal("cap_set_flag");
	if (cap_set_proc(caps) == -1)
		fatal("cap_set_proc");
	cap_free(caps);
}

void
priv_drop(void)
{
	cap_value_t	 c;

	/* Not root, or root without a set user (priv_init() warned). */
	if (!priv.active)
		return;
	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (c != CAP_NET_RAW && CAP_IS_SUPPORTED(c) &&
		    cap_drop_bound(c) == -1)
			fatal("cap_drop_bound %d", c);
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) == -1)
		fatal("PR_SET_KEEPCAPS");
	if (setgroups(1, &priv.gid) == -1)
		fatal("setgroups");
	if (setresgid(priv.gid, priv.gid, priv.gid) == -1)
		fatal("setresgid");
	if (setresuid(priv.uid, priv.uid, priv.uid) == -1)
		fatal("setresuid %s", priv.user);
	priv_caps();
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) == -1)
		fatal("PR_SET_KEEPCAPS");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	if (setuid(0) != -1 || seteuid(0) != -1 || getuid() == 0 ||
	    geteuid() == 0)
		fatalx("still able to become root after dropping to %s",
		    priv.user);
	log_info("running as %s (uid %u, gid %u) with CAP_NET_RAW only",
	    priv.user, (unsigned)priv.uid, (unsigned)priv.gid);
}
