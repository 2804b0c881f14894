/*
 * The guest half of the NotUpgradable proposal, as a pure decision: given
 * whether /etc/pv-drivers-not-upgradable exists and what the guest's
 * attr/PVAddons/NotUpgradable holds, what to do so that the key agrees
 * with the file. Nothing else of the guest's keys is ever touched.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define FLAG_KEY "attr/PVAddons/NotUpgradable"	/* relative: the guest's own home */
#define FLAG_KICK "data/updated"		/* the proposal's "inspect now" */
#define FLAG_FILE_DEFAULT "/etc/pv-drivers-not-upgradable"

enum flag_action {
	FLAG_NOTHING,	/* the key already agrees: no write, no kick */
	FLAG_WRITE,	/* write "1", then kick */
	FLAG_REMOVE,	/* remove the key, then kick */
};

/*
 * value is the key's current bytes (len of them), or NULL when it does not
 * exist. Only exactly "1" counts as set, as in xgmd: anything else is
 * rewritten when the file is there, and removed when it is not.
 */
enum flag_action flag_decide(bool file_present, const char *value, size_t len);
