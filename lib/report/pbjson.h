/* SPDX-License-Identifier: MIT */
/*
 * The protobuf JSON mapping of any protobuf-c message, driven by its
 * descriptor: field names in lowerCamelCase (protoc's json_name), enums by
 * name, 64-bit integers as strings, bytes as base64, google.protobuf.
 * Timestamp as an RFC 3339 string; proto3 fields at their default value
 * and empty repeated fields are left out (what protobuf's MessageToJson
 * prints by default). One line, no trailing newline.
 */
#pragma once

#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

void sr_pb_json(const ProtobufCMessage *m, FILE *out);
