// The Parquet writer in one include: schemas, values, the file writer and the tick schemas.
// The encoders it is built from (thrift_compact.hpp, rle_hybrid.hpp, plain_encoding.hpp) are
// usable on their own and included by whoever needs them.
#pragma once

#include "pw_parquet/compression.hpp"
#include "pw_parquet/decimal.hpp"
#include "pw_parquet/errc.hpp"
#include "pw_parquet/file_writer.hpp"
#include "pw_parquet/schema.hpp"
#include "pw_parquet/tick_schemas.hpp"
#include "pw_parquet/value.hpp"
