//===- KilnDialect.h - The kiln dialect -------------------------*- C++ -*-===//
#ifndef KILN_DIALECT_KILN_KILNDIALECT_H
#define KILN_DIALECT_KILN_KILNDIALECT_H

#include "kiln/Dialect/Kiln/KilnAttrs.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/Operation.h"

#include "kiln/Dialect/Kiln/KilnDialect.h.inc"

#endif // KILN_DIALECT_KILN_KILNDIALECT_H
