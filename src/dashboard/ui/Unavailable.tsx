/** Says which part of the dashboard is missing and what the push object would need for it. */
export function Unavailable({ what, needs }: { what: string; needs: string }) {
  return (
    <p class="notice">
      No {what} here: this push server does not offer {needs}.
    </p>
  );
}
