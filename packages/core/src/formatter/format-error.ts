/** Where in a format string a FormatError was found. */
export interface FormatErrorDetails {
  /** The operator at fault (`REQ`, `FOO`), when the error is about one. */
  readonly operator?: string | undefined;
  /** The index of the operator's opening `%` in the format string. */
  readonly position?: number | undefined;
}

/**
 * A format string Envoy would refuse. The message keeps Envoy's wording and adds the position:
 * `Not supported field in StreamInfo: FOO (at position 12)`.
 */
export class FormatError extends Error {
  override readonly name = 'FormatError';
  readonly operator: string | undefined;
  readonly position: number | undefined;

  constructor(message: string, details: FormatErrorDetails = {}) {
    super(message);
    this.operator = details.operator;
    this.position = details.position;
  }

  /** The same error with where it was configured in front: `json_format.a.b: ...`. */
  within(where: string): FormatError {
    return new FormatError(`${where}: ${this.message}`, { operator: this.operator, position: this.position });
  }
}
