import { HttpException, HttpStatus } from '@nestjs/common';

/** 503 that tells the client when to retry (Redis down, backlog over its limit). */
export class RetryLaterException extends HttpException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    status: HttpStatus = HttpStatus.SERVICE_UNAVAILABLE,
    extra: Record<string, unknown> = {},
  ) {
    super({ message, ...extra }, status);
  }
}

/** A 4xx whose body carries more than a message (rejected events, a reason code). */
export class DetailedBadRequest extends HttpException {
  constructor(message: string, details: Record<string, unknown>) {
    super({ message, ...details }, HttpStatus.BAD_REQUEST);
  }
}
