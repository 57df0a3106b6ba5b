import { titled } from "@/components/section-layout";

export const metadata = titled("Log in");
export { SectionLayout as default } from "@/components/section-layout";
