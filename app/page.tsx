import { LandingPage } from './_components/LandingPage';

/** The start page; its text is a client component so the language switches without a reload. */
export default function HomePage() {
  return <LandingPage />;
}
