/**
 * A sandbox's direct-edit helpers, named the way users' own tests call them: the edits of one
 * record type (`create`, `update`, `delete`, `get`, `list`) become `createCustomer`,
 * `updateCustomer`, ..., `listCustomers` for the label `Customer`.
 */

/** The edits of `Edits` under their names for `Label`: `create` becomes `create<Label>`, `list` becomes `list<Label>s`. */
export type NamedEdits<Label extends string, Edits> = {
  [Verb in keyof Edits & string as Verb extends 'list' ? `list${Label}s` : `${Verb}${Label}`]: Edits[Verb];
};

/** Names one record type's edits after it. */
export function namedEdits<Label extends string, Edits extends object>(
  label: Label,
  edits: Edits,
): NamedEdits<Label, Edits> {
  const named = Object.entries(edits).map(([verb, edit]): [string, unknown] => [
    verb === 'list' ? `list${label}s` : `${verb}${label}`,
    edit,
  ]);
  // TypeScript cannot follow template-literal keys through Object.fromEntries; the names are the type's by construction.
  return Object.fromEntries(named) as NamedEdits<Label, Edits>;
}
