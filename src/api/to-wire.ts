import { shapeNamed } from './ecs-model';

/**
 * Shapes a use case result into the operation's output shape: only members the model declares,
 * timestamps as epoch seconds (what the JSON protocol sends; Berth stores epoch milliseconds).
 */
export function toWire(shapeName: string, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  const shape = shapeNamed(shapeName);
  switch (shape.type) {
    case 'structure': {
      const result: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const wire = toWire(member.shape, (value as Record<string, unknown>)[name]);
        if (wire !== undefined) result[name] = wire;
      }
      return result;
    }
    case 'list':
      return (value as unknown[]).map((item) => toWire(shape.member!.shape, item));
    case 'map':
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, toWire(shape.value!.shape, item)]),
      );
    case 'timestamp':
      return typeof value === 'number' ? value / 1000 : value;
    default:
      return value;
  }
}
