/**
 * TApplicationException: the error every Thrift client understands, even one generated from an IDL that
 * declares no exceptions. Sent for unknown methods, malformed calls and unexpected failures.
 */
import { T_I32, T_STOP, T_STRING, type ProtocolReader, type ProtocolWriter } from '../gen/thriftbus.js'

/** TApplicationException.type values, as every Thrift implementation numbers them. */
export const ApplicationErrorType = {
  UNKNOWN: 0,
  UNKNOWN_METHOD: 1,
  INVALID_MESSAGE_TYPE: 2,
  WRONG_METHOD_NAME: 3,
  BAD_SEQUENCE_ID: 4,
  MISSING_RESULT: 5,
  INTERNAL_ERROR: 6,
  PROTOCOL_ERROR: 7,
} as const

export interface ApplicationException {
  message: string
  type: number
}

export function writeApplicationException(w: ProtocolWriter, ex: ApplicationException): void {
  w.writeStructBegin()
  w.writeFieldBegin(T_STRING, 1)
  w.writeString(ex.message)
  w.writeFieldBegin(T_I32, 2)
  w.writeI32(ex.type)
  w.writeFieldStop()
  w.writeStructEnd()
}

export function readApplicationException(r: ProtocolReader): ApplicationException {
  const ex: ApplicationException = { message: '', type: ApplicationErrorType.UNKNOWN }
  r.readStructBegin()
  for (;;) {
    const t = r.readFieldBegin()
    if (t === T_STOP) break
    if (r.fieldId === 1 && t === T_STRING) ex.message = r.readString()
    else if (r.fieldId === 2 && t === T_I32) ex.type = r.readI32()
    else r.skip(t)
  }
  r.readStructEnd()
  return ex
}
