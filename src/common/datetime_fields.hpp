#pragma once
// PostgreSQL's field reading of date/time input (ParseDateTime and the date part of
// DecodeDateTime, src/backend/utils/adt/datetime.c), for the inputs that format.cpp's ISO
// parser does not read itself: fields separated by blanks or by any punctuation
// ('"2020!03-17 #?~T~02:36:56#+00"'), a date split over fields ('2000 01-01', '2000 01 01'),
// a lone ISO `T` between blanks ('20070201 T 15:04:05+00'), a sign apart from its zone
// offset ('+   00'). PostgreSQL 15 and Materialize both accept these.
//
// Any thread; no state. Costs one pass over the text.
#include <optional>
#include <string>
#include <string_view>

namespace freshet {

// The same value written in the canonical form format.cpp's parser reads
// ("YYYY-MM-DD HH:MM:SS.f +00"), or nullopt when the fields do not make a date/time the way
// PostgreSQL reads them (the caller then reports its own syntax error). The date part follows
// DecodeNumber with DateStyle ISO, MDY: a field of 3 or more digits is the year, a date field
// must complete the date, two-digit years are 19xx/20xx. Text months, day-of-year and
// concatenated times are not rewritten (nullopt).
std::optional<std::string> canonical_datetime_fields(std::string_view text);

}  // namespace freshet
