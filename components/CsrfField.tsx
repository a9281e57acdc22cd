/** The hidden CSRF field every changing form carries (checked by `routes/_middleware.ts`). */
export function CsrfField(props: { token: string | undefined }) {
  return <input type="hidden" name="_csrf" value={props.token ?? ""} />;
}
