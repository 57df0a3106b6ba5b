export default function LivePage() {
  return <h1 className="text-xl font-semibold">Live</h1>;
}
