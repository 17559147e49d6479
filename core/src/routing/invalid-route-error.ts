// InvalidRouteError: a route, profile or traffic split that cannot be used, naming the route and the bad field.
import { InvalidInputError } from '../shared/invalid-input-error.js';

/**
 * `input` is the name of the route (or "namespace/name" of an HTTPRoute, the authority of a traffic split, or the
 * profile's fully qualified name for a profile-wide field); `reason` names the field, its bad value and what to
 * write instead.
 */
export class InvalidRouteError extends InvalidInputError {
  readonly kind = 'route';
}
