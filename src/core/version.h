/*
 * version.h - the version of this build.
 */
#ifndef FERRY_CORE_VERSION_H
#define FERRY_CORE_VERSION_H

#define FERRY_VERSION "0.1.0"

#endif
