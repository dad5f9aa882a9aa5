/*
 * rtowatch.h: what rtowatchd, rtowatch and rtowatch-notify must agree on
 * without reading each other's files: the version they report and the
 * default places of the rules, the control socket and the database.  The
 * database's schema version is the store's (store.h), since only the
 * store's migrations can change it.
 */
#ifndef RTOWATCH_H
#define RTOWATCH_H

#define RTOWATCH_VERSION	"0.1.0"

#define RTOWATCH_RULES_DEFAULT	"/etc/rtowatch/rtowatch.conf"
#define RTOWATCH_SOCKET_DEFAULT	"/run/rtowatch/control.sock"
#define RTOWATCH_DB_DEFAULT	"/var/lib/rtowatch/rtowatch.db"

#endif
