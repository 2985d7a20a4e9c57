/** Catalog descriptions mark code with backticks (as in the README); show those parts as <code>. */
export function Prose(props: { text: string }) {
  return <>{props.text.split("`").map((part, index) => (index % 2 === 1 ? <code>{part}</code> : part))}</>;
}
